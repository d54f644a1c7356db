package kernel_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/einspace-go/einspace/kernel"
	"github.com/einspace-go/einspace/search/study"
	"github.com/einspace-go/einspace/search/study/studytest"
)

// A reproduction's results outside a notebook: the tables as text, the four charts (two per dataset) in a
// page.
func TestDisplayStudy(t *testing.T) {
	dir, out := outside(t)
	results := filepath.Join(dir, "results")
	studytest.Write(t, results)
	s, err := study.Read(results)
	if err != nil {
		t.Fatal(err)
	}
	if err := kernel.Display(s); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	row := s.Table()[0].Texts()
	for _, want := range []string{"Table 1 beside the paper", row[1], row[5], "MultNIST  RE(Mix)", "not run",
		"(ii) regularised evolution beats random search", "Not yet measured on MultNIST"} {
		if !strings.Contains(text, want) {
			t.Errorf("the printed tables lack %q:\n%s", want, text)
		}
	}
	m := wrote.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no page written:\n%s", text)
	}
	page, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(page), `class="einspace-chart"`); n != 4 {
		t.Errorf("the page holds %d charts, want 4 (two per dataset)", n)
	}
	if tables := kernel.StudyTables(s); len(tables) != 3 || len(tables[0].Rows) != 2 || len(tables[2].Rows) != 12 {
		t.Errorf("StudyTables: %d tables", len(tables))
	}
}
