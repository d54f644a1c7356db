package kernel

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Evolve runs the evolution playground in a notebook cell: regularised evolution one generation at a time,
// with buttons "step", "run 10", "reset" and "done". After each generation it redraws, in place, what the
// generation did (the tournament drawn from the population, the parent it chose, the mutated child and the
// oldest member leaving), the population coloured by those roles, the fitness per generation, and the
// parent → child diff. The fitness is cheap and says what it is (ParamsProxy unless o.Fitness is set). The
// cell runs until "done" or an interrupt; the final state then stays in the notebook.
//
// Without a live page it shows the initial population and returns; outside a notebook it writes that as a
// page (see Display).
func Evolve(o EvolveOptions) error {
	p, err := newPlayground(o)
	if err != nil {
		return err
	}
	if !InNotebook() {
		return writeOutside("evolution playground", p.panel())
	}
	if err := ensureECharts(); err != nil {
		return err
	}
	v, live := startWidgetView("evolution playground", func(slot func(string) string) string {
		return fmt.Sprintf(`<div class="einspace-evolve" style="margin:4px 0 8px"><span id="%s"></span></div>`, slot("buttons"))
	}, p.panel)
	if !live {
		return v.finish(noPage())
	}
	buttons := v.slot("buttons")
	stepC, run10C, resetC, doneC := v.button("step", buttons), v.button("run 10", buttons), v.button("reset", buttons), v.button("done", buttons)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p.listening = true
	v.redraw()
	for {
		select {
		case <-ctx.Done():
			return v.finish("interrupted")
		case <-doneC:
			return v.finish("done")
		case <-stepC:
			p.step()
		case <-run10C:
			for range 10 {
				p.step()
			}
		case <-resetC:
			if err := p.reset(); err != nil {
				return v.finish(err.Error())
			}
		}
		v.redraw()
	}
}
