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

func (n *Node) write(b *strings.Builder) {
	if n.Kind == Terminal {
		b.WriteString(n.Op.Name())
		return
	}
	br := productions[n.Kind]
	b.WriteString(br.Name)
	b.WriteByte(br.Open)
	for i, c := range n.Children {
		if i > 0 {
			b.WriteString(", ")
		}
		c.write(b)
	}
	b.WriteByte(br.Close)
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

// module parses a module; what names the slot for error messages.
func (p *parser) module(what string) (*Node, error) {
	p.skipSpace()
	at := p.pos()
	name := p.name()
	if name == "" {
		return nil, p.errorf("expected a module (sequential, branching, routing or computation) for %s, found %s", what, p.describeNext())
	}
	prod, ok := productionNamed(name)
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
	// Room for every slot, and a second inner module for 2-way branching.
	n := &Node{Kind: prod.Kind, Pos: at, Children: make([]*Node, 0, len(prod.Slots)+1)}
	if err := p.expect(prod.Open, "after ", name); err != nil {
		return nil, err
	}
	for i, slot := range prod.Slots {
		if i > 0 {
			if err := p.expect(',', prod.Slots[i-1].After, ""); err != nil {
				return nil, err
			}
		}
		switch {
		case slot.Repeated:
			if err := p.inner(n, slot); err != nil {
				return nil, err
			}
		case slot.Module:
			m, err := p.module(slot.What)
			if err != nil {
				return nil, err
			}
			n.Children = append(n.Children, m)
		default:
			t, err := p.terminal(slot.Class, slot.What)
			if err != nil {
				return nil, err
			}
			n.Children = append(n.Children, t)
		}
	}
	if err := p.expect(prod.Close, "to close ", name); err != nil {
		return nil, err
	}
	return n, nil
}

// inner parses branching's inner modules, as many as the branching function just read asks for.
func (p *parser) inner(n *Node, slot Slot) error {
	b := n.Children[0].Op
	count := InnerModules(b.Factor())
	for i := range count {
		if i > 0 {
			if err := p.expect(',', "after the previous item of branching", ""); err != nil {
				return err
			}
		}
		what := slot.What
		if count > 1 {
			what = fmt.Sprintf("inner module %d of %d of branching", i+1, count)
		}
		m, err := p.module(what)
		if err != nil {
			return err
		}
		n.Children = append(n.Children, m)
	}
	if count == 1 {
		// A module after the next comma means the user wrote two inner modules for a 4/8-way branching function.
		look := *p
		if look.expect(',', "", "") == nil {
			look.skipSpace()
			at := look
			if _, isModule := productionNamed(look.name()); isModule {
				return at.errorf("%s has factor %d, so branching takes one inner module, copied %d times (SPEC §10.4), not two",
					b.Name(), b.Factor(), b.Factor())
			}
		}
	}
	return nil
}

// terminal parses a terminal of the given class.
func (p *parser) terminal(class Class, what string) (*Node, error) {
	p.skipSpace()
	at := p.pos()
	name := p.name()
	if name == "" {
		return nil, p.errorf("expected %s for %s, found %s", class.withArticle(), what, p.describeNext())
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
		if _, isModule := productionNamed(name); isModule {
			found = "a " + name + " module"
		} else if ok {
			found = fmt.Sprintf("the %s %s", classNamesFor(op), name)
		}
		return nil, p.errorf("expected %s for %s (one of %s), found %s", class.withArticle(), what, strings.Join(names, ", "), found)
	}
	return &Node{Kind: Terminal, Op: op, Pos: at}, nil
}
