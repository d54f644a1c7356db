package kernel

import (
	"fmt"
	"html"
	"strings"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/viz"
)

// Table is a plain table: a title, a header row and rows of cells.
type Table struct {
	Title  string
	Header []string
	Rows   [][]string
}

// HTML renders the table for a notebook.
func (t Table) HTML() string {
	var b strings.Builder
	b.WriteString(`<table style="border-collapse:collapse;font-family:monospace;font-size:13px;margin:6px 0">`)
	if t.Title != "" {
		fmt.Fprintf(&b, `<caption style="text-align:left;font-weight:bold;padding:4px 0">%s</caption>`, html.EscapeString(t.Title))
	}
	cell := func(tag, s string) {
		fmt.Fprintf(&b, `<%s style="border:1px solid #ddd;padding:3px 8px;text-align:left">%s</%s>`, tag, html.EscapeString(s), tag)
	}
	if len(t.Header) > 0 {
		b.WriteString("<tr>")
		for _, h := range t.Header {
			cell("th", h)
		}
		b.WriteString("</tr>")
	}
	for _, row := range t.Rows {
		b.WriteString("<tr>")
		for _, c := range row {
			cell("td", c)
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</table>")
	return b.String()
}

// Text renders the table as aligned plain text.
func (t Table) Text() string {
	widths := make([]int, len(t.Header))
	grow := func(row []string) {
		for i, c := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	grow(t.Header)
	for _, r := range t.Rows {
		grow(r)
	}
	var b strings.Builder
	if t.Title != "" {
		b.WriteString(t.Title + "\n")
	}
	line := func(row []string) {
		for i, c := range row {
			if i > 0 {
				b.WriteString("  ")
			}
			if i == len(row)-1 {
				b.WriteString(c)
			} else {
				b.WriteString(c + strings.Repeat(" ", widths[i]-len([]rune(c))))
			}
		}
		b.WriteByte('\n')
	}
	if len(t.Header) > 0 {
		line(t.Header)
	}
	for _, r := range t.Rows {
		line(r)
	}
	return strings.TrimRight(b.String(), "\n")
}

// StatsTable lists an architecture's statistics.
func StatsTable(a *grammar.Arch) Table {
	s := a.Stats()
	return Table{
		Title:  "architecture " + a.Hash()[:12],
		Header: []string{"statistic", "value"},
		Rows: [][]string{
			{"input", a.Input.String()},
			{"output", a.Output().String()},
			{"nodes", fmt.Sprintf("%d (%d modules, %d terminals)", s.Nodes, s.NonTerminals, s.Terminals)},
			{"depth", fmt.Sprint(s.Depth)},
			{"parameters", fmt.Sprintf("%d (%s)", s.Params, viz.Count(s.Params))},
			{"FLOPs", fmt.Sprintf("%d (%s)", s.FLOPs, viz.Count(s.FLOPs))},
			{"activation memory", fmt.Sprintf("%s bytes", viz.Count(s.ActivationBytes))},
		},
	}
}
