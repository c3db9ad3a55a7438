package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"image/png"
	"sort"
	"time"

	"github.com/ctrlsim/ctrlsim/faults"
	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/run"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Figures are drawn with gonum/plot's default fonts (Liberation, compiled
// into the binary, never looked up on the machine) and carry no timestamp:
// SVG and PNG bytes depend on nothing but the data.

// Window is a span of virtual time during which a fault was in force.
type Window struct {
	Fault    string
	From, To time.Duration
}

// FaultWindows reads the windows of a run's fault records: from Started to
// Healed (a fault that never healed lasts to end; one that never started, or
// could not be read, has none).
func FaultWindows(records []faults.Record, end time.Duration) []Window {
	var out []Window
	for _, r := range records {
		from, err := time.ParseDuration(r.Started)
		if r.Started == "" || err != nil {
			continue
		}
		to := end
		if r.Healed != "" {
			if to, err = time.ParseDuration(r.Healed); err != nil {
				continue
			}
		}
		out = append(out, Window{Fault: r.Fault, From: from, To: max(to, from)})
	}
	return out
}

// FaultShade is the colour of fault windows (translucent: overlapping
// faults shade darker).
var FaultShade = color.NRGBA{R: 255, G: 140, B: 0, A: 56}

// shading fills each window over the whole height of the data area; an
// instant fault gets a thin band. It does not widen the axes.
type shading struct {
	windows []Window
}

const minBand = vg.Length(1.5)

func (s shading) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	c.SetColor(FaultShade)
	for _, w := range s.windows {
		x0, x1 := trX(w.From.Seconds()), trX(w.To.Seconds())
		if x1-x0 < minBand {
			mid := (x0 + x1) / 2
			x0, x1 = mid-minBand/2, mid+minBand/2
		}
		x0, x1 = max(x0, c.Min.X), min(x1, c.Max.X)
		if x1 <= x0 {
			continue
		}
		c.Fill(vg.Rectangle{Min: vg.Point{X: x0, Y: c.Min.Y}, Max: vg.Point{X: x1, Y: c.Max.Y}}.Path())
	}
}

func (s shading) Thumbnail(c *draw.Canvas) {
	c.SetColor(FaultShade)
	c.Fill(c.Rectangle.Path())
}

// addFaults shades the windows (under whatever is added after) and names
// them once in the legend.
func addFaults(p *plot.Plot, windows []Window) {
	if len(windows) == 0 {
		return
	}
	s := shading{windows}
	p.Add(s)
	p.Legend.Add("fault in force", s)
}

// ReplicasPlot draws each owner's desired, current and ready replicas over
// virtual time (seconds), as steps: the counts hold until the next change.
// end is the run's last instant, so the last values are drawn to the end.
// The fault windows, if any, are shaded. One owner is drawn in three colours;
// several in a colour each, the counts told apart by dashes.
func ReplicasPlot(title string, series map[string][]check.Sample, end time.Duration, faults ...Window) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "virtual time (s)"
	p.Y.Label.Text = "pods"
	p.Legend.Top = false // bottom right: the counts start low and end high
	addFaults(p, faults)
	owners := make([]string, 0, len(series))
	for k := range series {
		owners = append(owners, k)
	}
	sort.Strings(owners)
	styles := []struct {
		name  string
		value func(check.Sample) int32
		color color.Color
		dash  []vg.Length
	}{
		{"desired", func(s check.Sample) int32 { return s.Desired }, color.RGBA{R: 90, G: 90, B: 90, A: 255}, []vg.Length{vg.Points(4), vg.Points(3)}},
		{"current", func(s check.Sample) int32 { return s.Current }, color.RGBA{R: 31, G: 119, B: 180, A: 255}, nil},
		{"ready", func(s check.Sample) int32 { return s.Ready }, color.RGBA{R: 44, G: 160, B: 44, A: 255}, []vg.Length{vg.Points(1.5), vg.Points(1.5)}},
	}
	for i, owner := range owners {
		samples := series[owner]
		for _, st := range styles {
			xys := make(plotter.XYs, 0, len(samples)+1)
			for _, s := range samples {
				xys = append(xys, plotter.XY{X: s.T.Seconds(), Y: float64(st.value(s))})
			}
			if n := len(samples); n > 0 && end > samples[n-1].T {
				xys = append(xys, plotter.XY{X: end.Seconds(), Y: float64(st.value(samples[n-1]))})
			}
			if len(xys) == 0 {
				continue
			}
			line, err := plotter.NewLine(xys)
			if err != nil {
				return nil, err
			}
			line.StepStyle = plotter.PostStep
			line.Color = st.color
			line.Dashes = st.dash
			line.Width = vg.Points(1.5)
			name := st.name
			if len(owners) > 1 {
				name = owner + " " + st.name
				line.Color = palette[i%len(palette)]
			}
			p.Add(line)
			p.Legend.Add(name, line)
		}
	}
	return p, nil
}

// Size of a figure.
const (
	figWidth  = 16 * vg.Centimeter
	figHeight = 9 * vg.Centimeter
)

// Render writes a plot in a format gonum/plot knows ("svg", "png").
func Render(p *plot.Plot, format string) ([]byte, error) {
	return RenderStack([]*plot.Plot{p}, format)
}

// RenderStack draws plots one above the other, each of the usual height,
// their data areas aligned, in a format gonum/plot knows ("svg", "png").
func RenderStack(plots []*plot.Plot, format string) ([]byte, error) {
	if len(plots) == 0 {
		return nil, fmt.Errorf("rendering %s: no plot", format)
	}
	height := figHeight
	if len(plots) > 1 {
		height = vg.Length(len(plots)) * figHeight * 5 / 9
	}
	var canvas vg.CanvasSizer
	var cw vg.CanvasWriterTo
	var img *vgimg.Canvas
	if format == "png" {
		// Drawn as gonum's PNG canvas draws, encoded for speed: a report
		// draws hundreds of these.
		img = vgimg.New(figWidth, height)
		canvas = img
	} else {
		var err error
		if cw, err = draw.NewFormattedCanvas(figWidth, height, format); err != nil {
			return nil, fmt.Errorf("rendering %s: %w", format, err)
		}
		canvas = cw
	}
	dc := draw.New(canvas)
	if len(plots) == 1 {
		plots[0].Draw(dc)
	} else {
		rows := make([][]*plot.Plot, len(plots))
		for i, p := range plots {
			rows[i] = []*plot.Plot{p}
		}
		canvases := plot.Align(rows, draw.Tiles{Rows: len(plots), Cols: 1, PadY: vg.Points(2)}, dc)
		for i, p := range plots {
			p.Draw(canvases[i][0])
		}
	}
	var b bytes.Buffer
	if img != nil {
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		if err := enc.Encode(&b, img.Image()); err != nil {
			return nil, fmt.Errorf("rendering png: %w", err)
		}
		return b.Bytes(), nil
	}
	if _, err := cw.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// LatencyCDF draws, for one scenario, the share of each strategy's runs that
// had converged by each convergence latency (runs that never converged never
// reach 1). strategies gives the order of the lines.
func LatencyCDF(scenario string, strategies []string, latencies map[string][]time.Duration, runs map[string]int) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = scenario + ": convergence latency"
	p.X.Label.Text = "virtual time after the last step (s)"
	p.Y.Label.Text = "share of runs converged"
	p.Y.Min, p.Y.Max = 0, 1.05
	p.Legend.Top, p.Legend.Left = true, true // the curves rise to the right
	for i, st := range strategies {
		lat := append([]time.Duration(nil), latencies[st]...)
		sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
		n := runs[st]
		if n == 0 || len(lat) == 0 {
			continue
		}
		xys := plotter.XYs{{X: 0, Y: 0}}
		for j, d := range lat {
			xys = append(xys, plotter.XY{X: d.Seconds(), Y: float64(j+1) / float64(n)})
		}
		if err := addStepLine(p, st, i, xys, 1.5); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// addStepLine adds the i-th series of a figure as a step line, its colour
// and dash pattern told apart from the others, with a legend entry.
func addStepLine(p *plot.Plot, name string, i int, xys plotter.XYs, width float64) error {
	line, err := plotter.NewLine(xys)
	if err != nil {
		return err
	}
	line.StepStyle = plotter.PostStep
	line.Color = palette[i%len(palette)]
	line.Dashes = dashes[(i/len(palette))%len(dashes)]
	line.Width = vg.Points(width)
	p.Add(line)
	p.Legend.Add(name, line)
	return nil
}

// palette: distinguishable colours (Tableau 10).
var palette = []color.Color{
	color.RGBA{31, 119, 180, 255}, color.RGBA{255, 127, 14, 255}, color.RGBA{44, 160, 44, 255},
	color.RGBA{214, 39, 40, 255}, color.RGBA{148, 103, 189, 255}, color.RGBA{140, 86, 75, 255},
	color.RGBA{227, 119, 194, 255}, color.RGBA{127, 127, 127, 255}, color.RGBA{188, 189, 34, 255},
	color.RGBA{23, 190, 207, 255},
}

// dashes tell apart lines whose colours repeat (more than ten strategies).
var dashes = [][]vg.Length{nil, {vg.Points(5), vg.Points(2)}, {vg.Points(1.5), vg.Points(1.5)}}

// Figure is one plot rendered for a report, in both formats.
type Figure struct {
	// Kind says what it shows: "cdf", "replicas", "ordering", "requests".
	Kind string
	// Name is the figure's path in the report directory without the
	// extension: Name+".svg" and Name+".png" are written.
	Name string
	// Title says what it shows (the alt text).
	Title string
	// SVG is always drawn; PNG unless the caller did not want it (nil).
	SVG, PNG []byte
}

// render draws plots (one, or a stack) as a Figure: SVG, and PNG if asked.
func render(kind, name, title string, withPNG bool, plots ...*plot.Plot) (Figure, error) {
	f := Figure{Kind: kind, Name: name, Title: title}
	var err error
	if f.SVG, err = RenderStack(plots, "svg"); err != nil || !withPNG {
		return f, err
	}
	f.PNG, err = RenderStack(plots, "png")
	return f, err
}

// latencyFigures draws one LatencyCDF per scenario of a comparison, named
// CDFName(scenario).
func latencyFigures(c *Comparison, summaries []run.Summary) ([]Figure, error) {
	var out []Figure
	for _, sc := range c.Scenarios {
		lat := map[string][]time.Duration{}
		runs := map[string]int{}
		for _, s := range summaries {
			if s.Scenario != sc {
				continue
			}
			runs[s.Strategy]++
			if s.ConvergenceMillis != nil {
				lat[s.Strategy] = append(lat[s.Strategy], time.Duration(*s.ConvergenceMillis)*time.Millisecond)
			}
		}
		p, err := LatencyCDF(sc, c.Strategies, lat, runs)
		if err != nil {
			return nil, err
		}
		f, err := render(CDFFigure, CDFName(sc), sc+": share of runs converged by each convergence latency", true, p)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}
