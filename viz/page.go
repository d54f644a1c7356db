package viz

import (
	"bytes"
	"fmt"
	"html"
	"os"
)

// Page renders charts as one standalone HTML page with the ECharts bundle inlined, so the file draws
// offline on its own. It fails only when the bundle is not found (see EChartsJS).
func Page(title string, charts ...*Chart) ([]byte, error) {
	script, err := EChartsScript()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	writePageHead(&b, title, "")
	b.WriteString(script)
	fmt.Fprintf(&b, "\n</head>\n<body>\n<h1>%s</h1>\n", html.EscapeString(title))
	for _, c := range charts {
		fmt.Fprintf(&b, "<div class=\"chart\">%s</div>\n", c.HTML())
	}
	b.WriteString("</body>\n</html>\n")
	return b.Bytes(), nil
}

// WritePage writes Page(title, charts...) to a file.
func WritePage(path, title string, charts ...*Chart) error {
	page, err := Page(title, charts...)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, page, 0o644); err != nil {
		return fmt.Errorf("write page %q: %w", title, err)
	}
	return nil
}

// writePageHead writes the start of a standalone page up to the open <head>'s style sheet: the styles
// every page shares, then extraCSS.
func writePageHead(b *bytes.Buffer, title, extraCSS string) {
	fmt.Fprintf(b, `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>%s</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px; background: #fff; color: #222; }
h1 { font-size: 22px; }
.chart { border: 1px solid #eee; margin: 0 0 24px; max-width: 100%%; overflow: auto; }
%s</style>
`, html.EscapeString(title), extraCSS)
}
