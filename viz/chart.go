package viz

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/go-echarts/go-echarts/v2/render"
)

// Chart is one drawn chart: an ECharts option and the HTML element that shows it.
type Chart struct {
	// Title is the chart's title, also used as a page section's heading.
	Title string
	base  *charts.BaseConfiguration
	r     render.Renderer
	snip  *render.ChartSnippet
	// extra holds option keys go-echarts cannot express (the colour key's graphic elements), merged
	// into the option.
	extra map[string]any
}

// chartOf wraps a go-echarts chart.
func chartOf(title string, base *charts.BaseConfiguration, r render.Renderer) *Chart {
	return &Chart{Title: title, base: base, r: r}
}

// Snippet returns the chart's HTML element, the script that draws it into the element (ECharts must be
// loaded first), and its option alone. Every chart gets a fresh element id when it is made, so one page may
// hold many charts.
func (c *Chart) Snippet() render.ChartSnippet {
	if c.snip == nil {
		s := c.r.RenderSnippet()
		c.snip = &s
	}
	return *c.snip
}

// HTML is the chart as a notebook output or a page fragment: its element, as wide as its container up
// to the chart's own width, and a script that draws it and redraws it when the container resizes.
//
// The script is safe to run more than once (a live view redrawn in place, a page re-rendering its saved
// outputs): it declares nothing at the top level and reuses the chart already in its element. When the
// page has no ECharts (after a reload, in a new tab), it loads the copy the kernel installer puts in
// Jupyter's nbextensions (EChartsNBExtension), and when that fails the element says what to run. A chart
// that zooms and pans (graphs, trees) does so only after a click on it, so the mouse wheel scrolls the
// page until then.
func (c *Chart) HTML() string {
	s := c.Snippet()
	width, height := c.Size()
	option := strings.TrimSuffix(strings.TrimSpace(s.Option), ";")
	extra := "{}"
	if c.extra != nil {
		raw, _ := json.Marshal(c.extra) // maps of strings, numbers and slices: cannot fail
		extra = string(raw)
	}
	return fmt.Sprintf(`<div class="einspace-chart" id="%s" style="width:100%%;max-width:%s;height:%s;"></div>
<script type="text/javascript">(function(){
var id=%q,option=Object.assign(%s,%s);
%s
function draw(){var el=document.getElementById(id);if(!el)return;
var chart=echarts.getInstanceByDom(el)||echarts.init(el,"white",{renderer:"canvas"});
%s}
%s})();</script>
`, c.ID(), width, height, c.ID(), option, extra, unfoldScript, drawScript, loaderScript)
}

// unfoldScript keeps the classic Notebook from folding the chart's output into a scroll box (it does so to
// any output taller than 100 lines), which would show a sliver of a tree or a graph.
const unfoldScript = `try{var self=document.getElementById(id);Jupyter.notebook.get_cells().forEach(function(c){var oa=c.output_area;
if(oa&&oa.element&&self&&oa.element[0].contains(self)){oa.scroll_state=false;oa.unscroll_area()}})}catch(e){}`

// drawScript sets the option (zoom and pan held back until a click), and follows the element's size.
const drawScript = `var roam=(option.series||[]).map(function(s){return s.roam});
var hold=function(){chart.setOption({series:roam.map(function(r){return r?{roam:false}:{}})})};
chart.setOption(option,true);
if(roam.some(Boolean)&&!el.einspaceRoam){el.einspaceRoam=true;hold();el.title="click to zoom and pan";
el.addEventListener("click",function(){chart.setOption({series:roam.map(function(r){return r?{roam:r}:{}})});el.title=""});
el.addEventListener("mouseleave",function(){hold();el.title="click to zoom and pan"});}
if(window.ResizeObserver&&!el.einspaceResize){el.einspaceResize=new ResizeObserver(function(){chart.resize()});el.einspaceResize.observe(el)}
`

// loaderScript draws at once when ECharts is on the page, and otherwise queues the drawing behind one
// load of the nbextensions copy (through require.js when the page runs it, as the classic Notebook does).
const loaderScript = `if(window.echarts){draw();return}
var L=window.einspaceECharts=window.einspaceECharts||{queue:[],loading:false};L.queue.push({id:id,draw:draw});
if(L.loading)return;L.loading=true;
var done=function(ok){L.loading=false;var q=L.queue;L.queue=[];q.forEach(function(e){if(ok&&window.echarts){e.draw()}else{var el=document.getElementById(e.id);
if(el){el.style.height="auto";el.innerHTML=` + "`" + missingECharts + "`" + `}}})};
var base="/";try{base=document.body.getAttribute("data-base-url")||JSON.parse(document.getElementById("jupyter-config-data").textContent).baseUrl||"/"}catch(e){}
var url=base.replace(/\/?$/,"/")+"nbextensions/` + EChartsNBExtension + `";
if(typeof window.require==="function"&&window.define&&window.define.amd){window.require([url],function(e){if(e&&!window.echarts){window.echarts=e}done(true)},function(){done(false)})}
else{var s=document.createElement("script");s.src=url;s.onload=function(){done(true)};s.onerror=function(){done(false)};document.head.appendChild(s)}
`

// missingECharts is what a chart's element says when the page has no ECharts and cannot load it.
const missingECharts = `<div style="color:#a00;font:13px sans-serif;padding:8px;border:1px solid #e99">This chart cannot draw: ` +
	`ECharts is not loaded on this page. Run <code>kernel.LoadECharts()</code> in a cell and run this cell again; ` +
	`<code>bash scripts/setup-notebooks.sh</code> installs a copy that Jupyter serves to every page.</div>`

// Option is the chart's ECharts option as JSON (indented, for golden tests and for reading).
func (c *Chart) Option() string {
	raw := strings.TrimSpace(c.Snippet().Option)
	raw = strings.TrimSuffix(raw, ";")
	if c.extra != nil {
		var m map[string]any
		if json.Unmarshal([]byte(raw), &m) == nil {
			for k, v := range c.extra {
				m[k] = v
			}
			merged, _ := json.Marshal(m)
			raw = string(merged)
		}
	}
	var out bytes.Buffer
	if err := json.Indent(&out, []byte(raw), "", "  "); err != nil {
		return raw // an option with JavaScript functions in it is not JSON
	}
	return out.String()
}

// ID is the id of the chart's HTML element.
func (c *Chart) ID() string { return c.base.ChartID }

// Size is the chart's element width and height as CSS lengths.
func (c *Chart) Size() (width, height string) {
	return c.base.Initialization.Width, c.base.Initialization.Height
}

// initOpts sets a chart's title and size and turns the go-echarts defaults off (the toolbox and the page
// assets that point at a web address).
func initOpts(title, subtitle string, width, height int) []charts.GlobalOpts {
	return []charts.GlobalOpts{
		charts.WithInitializationOpts(opts.Initialization{
			Width:  fmt.Sprintf("%dpx", width),
			Height: fmt.Sprintf("%dpx", height),
		}),
		charts.WithTitleOpts(opts.Title{Title: title, Subtitle: subtitle}),
		charts.WithAnimation(false),
	}
}

// Palette holds the colour of each group of nodes, for legends and for readers of the charts.
var Palette = map[Group]string{
	GroupSequential:  "#9e9e9e",
	GroupBranching:   "#5470c6",
	GroupRouting:     "#73c0de",
	GroupComputation: "#91cc75",
	GroupLinear:      "#3ba272",
	GroupNorm:        "#fac858",
	GroupActivation:  "#fc8452",
	GroupSoftmax:     "#ee6666",
	GroupPositional:  "#9a60b4",
	GroupIdentity:    "#c8c8c8",
	GroupPatches:     "#2f4554",
	GroupPermute:     "#61a0a8",
	GroupBranchFn:    "#d48265",
	GroupAggregateFn: "#ea7ccc",
	GroupConv:        "#1b7a3a",
	GroupAttention:   "#c23531",
	GroupResidual:    "#3a56b0",
	GroupIO:          "#333333",
}

// changedColour marks the subtree that differs between a parent and its child.
const changedColour = "#ff2d2d"
