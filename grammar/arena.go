package grammar

// arena hands out nodes and child slices in chunks, and takes back everything allocated after a mark.
// Backtracking discards whole subtrees, which are always the newest allocations, so the sampler rewinds
// instead of leaving them to the garbage collector: at p = 0.32 it builds tens of nodes for every node it
// keeps. Chunks that hold a returned tree are handed over to it and never reused.
type arena struct {
	nodes [][]Node
	ptrs  [][]*Node
	node  position
	ptr   position
}

type position struct{ chunk, used int }

type mark struct{ node, ptr position }

const (
	nodeChunk = 256
	ptrChunk  = 1024
)

func (a *arena) newNode(n Node) *Node {
	if a.node.chunk == len(a.nodes) {
		a.nodes = append(a.nodes, make([]Node, nodeChunk))
	}
	p := &a.nodes[a.node.chunk][a.node.used]
	*p = n
	a.node.used++
	if a.node.used == nodeChunk {
		a.node.chunk++
		a.node.used = 0
	}
	return p
}

// children returns a slice of k child pointers whose capacity is k, so appending never overwrites a neighbour.
func (a *arena) children(k int) []*Node {
	if a.ptr.chunk < len(a.ptrs) && a.ptr.used+k > ptrChunk {
		a.ptr.chunk++
		a.ptr.used = 0
	}
	if a.ptr.chunk == len(a.ptrs) {
		a.ptrs = append(a.ptrs, make([]*Node, ptrChunk))
	}
	s := a.ptrs[a.ptr.chunk][a.ptr.used : a.ptr.used+k : a.ptr.used+k]
	a.ptr.used += k
	return s
}

func (a *arena) mark() mark { return mark{a.node, a.ptr} }

// rewind takes back everything allocated since m. The child pointers are cleared so that discarded
// subtrees do not stay reachable.
func (a *arena) rewind(m mark) {
	for c := m.ptr.chunk; c <= a.ptr.chunk && c < len(a.ptrs); c++ {
		from, to := 0, ptrChunk
		if c == m.ptr.chunk {
			from = m.ptr.used
		}
		if c == a.ptr.chunk {
			to = a.ptr.used
		}
		clear(a.ptrs[c][from:to])
	}
	a.node, a.ptr = m.node, m.ptr
}

// handOver gives the chunks in use to the tree just returned and keeps the untouched ones for the next.
func (a *arena) handOver() {
	a.nodes = append([][]Node(nil), a.nodes[min(a.node.chunk+1, len(a.nodes)):]...)
	a.ptrs = append([][]*Node(nil), a.ptrs[min(a.ptr.chunk+1, len(a.ptrs)):]...)
	a.node, a.ptr = position{}, position{}
}
