package kernel

import (
	"fmt"

	"github.com/einspace-go/einspace/search/study"
	"github.com/einspace-go/einspace/viz"
)

// StudyTables is the notebook view of a reproduction's results (package search/study): the table beside
// the paper's Table 1 (study.Study.Table), where each method stands (what is finished, what is missing),
// and the paper's claims tested on the numbers (study.Study.Claims). `einspace reproduction` writes the
// same model as Markdown.
func StudyTables(s *study.Study) []Table {
	table := Table{Title: "Table 1 beside the paper: test accuracy (%), ours (mean ± std over finished seeds, n) · the paper's",
		Header: study.TableHeader()}
	for _, row := range s.Table() {
		table.Rows = append(table.Rows, row.Texts())
	}
	status := Table{Title: "where each run stands", Header: []string{"dataset", "method", "status"}}
	for _, d := range s.Datasets {
		for _, m := range d.Methods {
			status.Rows = append(status.Rows, []string{d.Title(), m.Method.Title(), m.Status()})
		}
		status.Rows = append(status.Rows, []string{d.Title(), "ResNet-18 baseline (8 epochs, full data)", d.Baseline.Status()})
	}
	claims := Table{Title: "the paper's claims, tested on these runs", Header: []string{"claim", "comparison", "evidence"}}
	for _, c := range s.Claims() {
		claims.Rows = append(claims.Rows, []string{fmt.Sprintf("(%s) %s", c.ID, study.ClaimTitles[c.ID]), c.Test, c.Text})
	}
	return []Table{table, status, claims}
}

// studyParts shows a study: its tables, then each dataset's two charts (viz.ReproductionCharts).
func studyParts(s *study.Study) []part {
	var parts []part
	for _, t := range StudyTables(s) {
		parts = append(parts, part{html: t.HTML(), text: t.Text(), title: t.Title})
	}
	for _, d := range s.Datasets {
		for _, c := range viz.ReproductionCharts(d) {
			parts = append(parts, part{chart: c})
		}
	}
	return parts
}
