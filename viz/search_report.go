package viz

import (
	"bytes"
	"fmt"
	"html"
	"os"
	"slices"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/search"
)

// ReportBest is how many of the best architectures a search report draws as trees and graphs.
const ReportBest = 3

// ReportTop is the number of best architectures whose terminals a search report compares with all.
const ReportTop = 10

// SearchReport renders the run directory dir as one standalone HTML page (the ECharts bundle inlined, as
// Page does): a summary of the configuration and the counts, the best validation accuracy and, when
// final.json exists, the final test accuracy (search.Summarise); the best architectures as a table; the
// failure reasons; the progress charts (by evaluation and by wall time), the population chart and the
// terminal frequencies of the top architectures; and the best three architectures, each as its
// derivation tree and dataflow graph inferred at the configuration's input shape. It is what
// `einspace report RUN_DIR` writes. It fails when dir holds no run or when the ECharts bundle is missing.
func SearchReport(dir string) ([]byte, error) {
	sum, err := search.Summarise(dir)
	if err != nil {
		return nil, err
	}
	records, _, err := search.ReadRecords(dir)
	if err != nil {
		return nil, err
	}
	script, err := EChartsScript()
	if err != nil {
		return nil, err
	}
	input, err := sum.Config.InputShape()
	if err != nil {
		return nil, err
	}
	g := sum.Config.Grammar.Grammar()

	title := "einspace search " + dir
	var b bytes.Buffer
	writePageHead(&b, title, `h2 { font-size: 18px; margin-top: 32px; } h3 { font-size: 15px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0 18px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre.arch { white-space: pre-wrap; word-break: break-all; font-size: 11px; background: #f7f7f7; padding: 8px; max-height: 200px; overflow: auto; }
`)
	b.WriteString(script)
	fmt.Fprintf(&b, "\n</head>\n<body>\n<h1>%s</h1>\n", html.EscapeString(title))

	writeSummaryTable(&b, sum)
	writeBestTable(&b, sum)
	writeFailures(&b, sum)

	chart := func(c *Chart) { fmt.Fprintf(&b, "<div class=\"chart\">%s</div>\n", c.HTML()) }
	b.WriteString("<h2>Progress</h2>\n")
	chart(SearchProgress(records))
	chart(SearchProgressByTime(records))
	b.WriteString("<h2>Population</h2>\n")
	chart(Population(records))
	b.WriteString("<h2>Terminals of the best architectures</h2>\n")
	chart(OpFrequency(records, ReportTop))
	chart(OpGroupFrequency(records, ReportTop))

	b.WriteString("<h2>Best architectures</h2>\n")
	if len(sum.Best) == 0 {
		b.WriteString("<p>No successful evaluation yet.</p>\n")
	}
	for i, r := range sum.Best[:min(len(sum.Best), ReportBest)] {
		fmt.Fprintf(&b, "<h3 id=\"best-%d\">#%d: record %d · %s · val accuracy %.2f%% · %s params · %s FLOPs</h3>\n",
			i+1, i+1, r.Index, html.EscapeString(r.Origin.String()), r.ValAccuracy, Count(r.Params), Count(r.FLOPs))
		fmt.Fprintf(&b, "<pre class=\"arch\">%s</pre>\n", html.EscapeString(r.Arch))
		a, err := inferRecord(g, r, input)
		if err != nil {
			fmt.Fprintf(&b, "<p>cannot draw it: %s</p>\n", html.EscapeString(err.Error()))
			continue
		}
		chart(ArchTree(a, TreeOptions{Title: fmt.Sprintf("#%d record %d: derivation tree", i+1, r.Index)}))
		chart(ArchGraph(a, fmt.Sprintf("#%d record %d: dataflow graph", i+1, r.Index)))
	}
	b.WriteString("</body>\n</html>\n")
	return b.Bytes(), nil
}

// WriteSearchReport writes SearchReport(dir) to path.
func WriteSearchReport(dir, path string) error {
	page, err := SearchReport(dir)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, page, 0o644); err != nil {
		return fmt.Errorf("write search report: %w", err)
	}
	return nil
}

func inferRecord(g *grammar.Grammar, r search.Record, input grammar.Shape) (*grammar.Arch, error) {
	root, err := grammar.Parse(r.Arch)
	if err != nil {
		return nil, fmt.Errorf("record %d: %w", r.Index, err)
	}
	a, err := g.Infer(root, input)
	if err != nil {
		return nil, fmt.Errorf("record %d: %w", r.Index, err)
	}
	return a, nil
}

// writeSummaryTable is the HTML view of the summary's overview (search.Summary.Overview).
func writeSummaryTable(b *bytes.Buffer, s *search.Summary) {
	b.WriteString("<h2>Summary</h2>\n<table>\n")
	for _, f := range s.Overview() {
		fmt.Fprintf(b, "<tr><th>%s</th><td>%s</td></tr>\n", html.EscapeString(f.Name), html.EscapeString(f.Value))
	}
	b.WriteString("</table>\n")
}

// writeBestTable is the HTML view of the summary's best architectures; the first ReportBest ranks link
// to their drawings further down.
func writeBestTable(b *bytes.Buffer, s *search.Summary) {
	if len(s.Best) == 0 {
		return
	}
	b.WriteString("<h2>Best architectures by validation accuracy</h2>\n<table>\n<tr>")
	for _, c := range search.BestColumns {
		fmt.Fprintf(b, "<th>%s</th>", html.EscapeString(c))
	}
	b.WriteString("</tr>\n")
	origin, hash := slices.Index(search.BestColumns, "origin"), slices.Index(search.BestColumns, "hash")
	for i, row := range s.BestRows() {
		b.WriteString("<tr>")
		for j, cell := range row {
			cell = html.EscapeString(cell)
			switch {
			case j == 0 && i < ReportBest:
				fmt.Fprintf(b, "<td class=\"num\"><a href=\"#best-%d\">%s</a></td>", i+1, cell)
			case j == hash:
				fmt.Fprintf(b, "<td><code>%s</code></td>", cell)
			case j == origin:
				fmt.Fprintf(b, "<td>%s</td>", cell)
			default:
				fmt.Fprintf(b, "<td class=\"num\">%s</td>", cell)
			}
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</table>\n")
}

func writeFailures(b *bytes.Buffer, s *search.Summary) {
	if len(s.Failures) == 0 {
		return
	}
	reasons := s.FailureReasons()
	b.WriteString("<h2>Failures</h2>\n<table>\n<tr><th>count</th><th>reason</th></tr>\n")
	for _, r := range reasons {
		fmt.Fprintf(b, "<tr><td class=\"num\">%d</td><td>%s</td></tr>\n", s.Failures[r], html.EscapeString(truncate(r, 200)))
	}
	b.WriteString("</table>\n")
}
