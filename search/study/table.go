package study

import "fmt"

// Cell is one entry of the table beside the paper's Table 1: ours and the paper's number.
type Cell struct {
	Method Method
	// Ours describes the final test accuracy of the method's finished runs, over seeds; for
	// RandomSampling, the validation accuracy of every random sample under the search protocol.
	Ours  Stats
	Paper float64
	// HasPaper reports whether the paper gives a number for the dataset and method.
	HasPaper bool
}

// Text is the cell as a report prints it: "93.12 ± 0.45 (n=3) · paper 93.36"; one value has no ±, none is
// "–".
func (c Cell) Text() string {
	var ours string
	switch {
	case c.Ours.N == 0:
		ours = "–"
	case c.Ours.N == 1:
		ours = fmt.Sprintf("%s (n=1)", Acc(c.Ours.Mean))
	default:
		ours = fmt.Sprintf("%s ± %s (n=%d)", Acc(c.Ours.Mean), Acc(c.Ours.Std), c.Ours.N)
	}
	if c.HasPaper {
		return ours + " · paper " + Acc(c.Paper)
	}
	return ours
}

// Row is one dataset's row of the table, its cells in the order of Columns.
type Row struct {
	Dataset *Dataset
	Cells   []Cell
}

// TableHeader is the table's header: the dataset, then each of Columns by its title.
func TableHeader() []string {
	h := []string{"dataset"}
	for _, m := range Columns {
		h = append(h, m.Title())
	}
	return h
}

// Table is the study beside the paper's Table 1: a row per dataset.
func (s *Study) Table() []Row {
	rows := make([]Row, 0, len(s.Datasets))
	for _, d := range s.Datasets {
		row := Row{Dataset: d}
		for _, m := range Columns {
			c := Cell{Method: m}
			if m == RandomSampling {
				c.Ours = d.Sampling.Stats
			} else {
				c.Ours = d.Method(m).TestAccuracy()
			}
			c.Paper, c.HasPaper = Paper[d.Name].Accuracy[m]
			row.Cells = append(row.Cells, c)
		}
		rows = append(rows, row)
	}
	return rows
}

// Texts is the row as the texts of its cells, the dataset's title first (the columns of TableHeader).
func (r Row) Texts() []string {
	out := []string{r.Dataset.Title()}
	for _, c := range r.Cells {
		out = append(out, c.Text())
	}
	return out
}
