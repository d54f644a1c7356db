package grammar

import (
	"fmt"
	"strings"
)

// String prints the tree in the canonical text format (SPEC §10.1): sequential(A, B), branching{B, M1, M2, A}
// or branching{B, M, A}, routing[P, M, R], computation<C>, terminals by name, ", " between items.
func (n *Node) String() string {
	var b strings.Builder
	b.Grow(32 * 8)
	n.write(&b)
	return b.String()
}

var brackets = [...]struct {
	name        string
	open, close byte
}{
	SequentialModule:  {"sequential", '(', ')'},
	BranchingModule:   {"branching", '{', '}'},
	RoutingModule:     {"routing", '[', ']'},
	ComputationModule: {"computation", '<', '>'},
}

func (n *Node) write(b *strings.Builder) {
	if n.Kind == Terminal {
		b.WriteString(n.Op.Name())
		return
	}
	br := brackets[n.Kind]
	b.WriteString(br.name)
	b.WriteByte(br.open)
	for i, c := range n.Children {
		if i > 0 {
			b.WriteString(", ")
		}
		c.write(b)
	}
	b.WriteByte(br.close)
}

// SyntaxError is a parse error: where, what was found and what was expected.
type SyntaxError struct {
	Pos Pos
	Msg string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s: %s", e.Pos, e.Msg) }

// Parse reads an architecture in the text format of SPEC §10.1. White space is ignored and # starts a
// comment that runs to the end of the line. Parse checks the syntax and that every slot holds the right kind
// of symbol (a module in module slots, a terminal of the slot's class elsewhere, as many inner modules as the
// branching factor asks for); shapes are checked by Infer. Errors are *SyntaxError with line:column.
func Parse(text string) (*Node, error) {
	p := parser{src: text, line: 1, col: 1}
	n, err := p.module("the architecture")
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.off < len(p.src) {
		return nil, p.errorf("unexpected %s after the end of the architecture", p.describeNext())
	}
	return n, nil
}

type parser struct {
	src       string
	off       int
	line, col int
}

func (p *parser) pos() Pos { return Pos{p.line, p.col} }

func (p *parser) errorf(format string, args ...any) *SyntaxError {
	return &SyntaxError{Pos: p.pos(), Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) advance() {
	if p.src[p.off] == '\n' {
		p.line++
		p.col = 1
	} else {
		p.col++
	}
	p.off++
}

func (p *parser) skipSpace() {
	for p.off < len(p.src) {
		switch c := p.src[p.off]; {
		case c == '#':
			for p.off < len(p.src) && p.src[p.off] != '\n' {
				p.advance()
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			p.advance()
		default:
			return
		}
	}
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// name reads a symbol name; it returns "" when the next character does not start one.
func (p *parser) name() string {
	start := p.off
	for p.off < len(p.src) && isNameByte(p.src[p.off]) {
		p.advance()
	}
	return p.src[start:p.off]
}

func (p *parser) describeNext() string {
	if p.off >= len(p.src) {
		return "end of input"
	}
	if isNameByte(p.src[p.off]) {
		end := p.off
		for end < len(p.src) && isNameByte(p.src[end]) {
			end++
		}
		return fmt.Sprintf("%q", p.src[p.off:end])
	}
	return fmt.Sprintf("%q", p.src[p.off:p.off+1])
}

// expect consumes the byte c; the error says "expected c <context><name>" (two strings, so that the
// message is only assembled when it is needed).
func (p *parser) expect(c byte, context, name string) error {
	p.skipSpace()
	if p.off >= len(p.src) || p.src[p.off] != c {
		return p.errorf("expected %q %s%s, found %s", c, context, name, p.describeNext())
	}
	p.advance()
	return nil
}

var moduleKinds = map[string]Kind{"sequential": SequentialModule, "branching": BranchingModule,
	"routing": RoutingModule, "computation": ComputationModule}

// module parses a module; what names the slot for error messages.
func (p *parser) module(what string) (*Node, error) {
	p.skipSpace()
	at := p.pos()
	name := p.name()
	if name == "" {
		return nil, p.errorf("expected a module (sequential, branching, routing or computation) for %s, found %s", what, p.describeNext())
	}
	kind, ok := moduleKinds[name]
	if !ok {
		p.off, p.line, p.col = p.off-len(name), at.Line, at.Col
		if op, isOp := opsByName[name]; isOp {
			if op.In(Computation) {
				return nil, p.errorf("expected a module for %s, found the terminal %s: write computation<%s>", what, name, name)
			}
			return nil, p.errorf("expected a module for %s, found the %s %s, which belongs in another slot", what, classNamesFor(op), name)
		}
		return nil, p.errorf("expected a module (sequential, branching, routing or computation) for %s, found %q", what, name)
	}
	n := &Node{Kind: kind, Pos: at}
	br := brackets[kind]
	if err := p.expect(br.open, "after ", name); err != nil {
		return nil, err
	}
	switch kind {
	case SequentialModule:
		first, err := p.module("the first module of sequential")
		if err != nil {
			return nil, err
		}
		if err := p.expect(',', "between the two modules of sequential", ""); err != nil {
			return nil, err
		}
		second, err := p.module("the second module of sequential")
		if err != nil {
			return nil, err
		}
		n.Children = []*Node{first, second}
	case BranchingModule:
		if err := p.branching(n); err != nil {
			return nil, err
		}
	case RoutingModule:
		pre, err := p.terminal(Prerouting, "the first item of routing")
		if err != nil {
			return nil, err
		}
		if err := p.expect(',', "after the prerouting function", ""); err != nil {
			return nil, err
		}
		inner, err := p.module("the inner module of routing")
		if err != nil {
			return nil, err
		}
		if err := p.expect(',', "after the inner module of routing", ""); err != nil {
			return nil, err
		}
		post, err := p.terminal(Postrouting, "the last item of routing")
		if err != nil {
			return nil, err
		}
		n.Children = []*Node{pre, inner, post}
	case ComputationModule:
		c, err := p.terminal(Computation, "computation")
		if err != nil {
			return nil, err
		}
		n.Children = []*Node{c}
	}
	if err := p.expect(br.close, "to close ", name); err != nil {
		return nil, err
	}
	return n, nil
}

func (p *parser) branching(n *Node) error {
	b, err := p.terminal(Branching, "the first item of branching")
	if err != nil {
		return err
	}
	n.Children = append(n.Children, b)
	count := 1
	if b.Op.Factor() == 2 {
		count = 2
	}
	for i := range count {
		if err := p.expect(',', "after the previous item of branching", ""); err != nil {
			return err
		}
		what := "the inner module of branching"
		if count == 2 {
			what = [2]string{"inner module 1 of 2 of branching", "inner module 2 of 2 of branching"}[i]
		}
		m, err := p.module(what)
		if err != nil {
			return err
		}
		n.Children = append(n.Children, m)
	}
	if err := p.expect(',', "after the inner module(s) of branching", ""); err != nil {
		return err
	}
	p.skipSpace()
	if count == 1 && p.off < len(p.src) && isNameByte(p.src[p.off]) {
		// A second module here means the user wrote two inner modules for a 4/8-way branching function.
		save := *p
		if _, isModule := moduleKinds[p.name()]; isModule {
			*p = save
			return p.errorf("%s has factor %d, so branching takes one inner module, copied %d times (SPEC §10.4), not two",
				b.Op.Name(), b.Op.Factor(), b.Op.Factor())
		}
		*p = save
	}
	a, err := p.terminal(Aggregation, "the last item of branching")
	if err != nil {
		return err
	}
	n.Children = append(n.Children, a)
	return nil
}

// terminal parses a terminal of the given class.
func (p *parser) terminal(class Class, what string) (*Node, error) {
	p.skipSpace()
	at := p.pos()
	name := p.name()
	if name == "" {
		return nil, p.errorf("expected a %s for %s, found %s", class, what, p.describeNext())
	}
	op, ok := opsByName[name]
	if !ok || !op.In(class) {
		p.off, p.line, p.col = p.off-len(name), at.Line, at.Col
		var names []string
		for _, o := range slotOptions[class] {
			names = append(names, o.Name())
		}
		if class == Computation {
			names = append(names, "linear_x4", "linear_4th")
		}
		found := fmt.Sprintf("%q", name)
		if _, isModule := moduleKinds[name]; isModule {
			found = "a " + name + " module"
		} else if ok {
			found = fmt.Sprintf("the %s %s", classNamesFor(op), name)
		}
		return nil, p.errorf("expected a %s for %s (one of %s), found %s", class, what, strings.Join(names, ", "), found)
	}
	return &Node{Kind: Terminal, Op: op, Pos: at}, nil
}
