package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/harness/run"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// ReplicasPlot draws each owner's desired, current and ready replicas over
// virtual time (seconds), as steps: the counts hold until the next change.
// end is the run's last instant, so the last values are drawn to the end.
func ReplicasPlot(title string, series map[string][]check.Sample, end time.Duration) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "virtual time (s)"
	p.Y.Label.Text = "pods"
	p.Legend.Top = false // bottom right: the counts start low and end high
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
		{"ready", func(s check.Sample) int32 { return s.Ready }, color.RGBA{R: 44, G: 160, B: 44, A: 255}, nil},
	}
	for _, owner := range owners {
		samples := series[owner]
		for _, st := range styles {
			xys := make(plotter.XYs, 0, len(samples)+1)
			for _, s := range samples {
				xys = append(xys, plotter.XY{X: s.T.Seconds(), Y: float64(st.value(s))})
			}
			if n := len(samples); n > 0 && end > samples[n-1].T {
				xys = append(xys, plotter.XY{X: end.Seconds(), Y: float64(st.value(samples[n-1]))})
			}
			line, err := plotter.NewLine(xys)
			if err != nil {
				return nil, err
			}
			line.StepStyle = plotter.PostStep
			line.Color = st.color
			line.Dashes = st.dash
			line.Width = vg.Points(1.5)
			p.Add(line)
			name := st.name
			if len(owners) > 1 {
				name = owner + " " + st.name
			}
			p.Legend.Add(name, line)
		}
	}
	return p, nil
}

// Render writes a plot in a format gonum/plot knows ("svg", "png").
func Render(p *plot.Plot, format string) ([]byte, error) {
	w, err := p.WriterTo(16*vg.Centimeter, 9*vg.Centimeter, format)
	if err != nil {
		return nil, fmt.Errorf("rendering %s: %w", format, err)
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
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
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		line.StepStyle = plotter.PostStep
		line.Color = palette[i%len(palette)]
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(st, line)
	}
	return p, nil
}

// palette: distinguishable colours (Tableau 10).
var palette = []color.Color{
	color.RGBA{31, 119, 180, 255}, color.RGBA{255, 127, 14, 255}, color.RGBA{44, 160, 44, 255},
	color.RGBA{214, 39, 40, 255}, color.RGBA{148, 103, 189, 255}, color.RGBA{140, 86, 75, 255},
	color.RGBA{227, 119, 194, 255}, color.RGBA{127, 127, 127, 255}, color.RGBA{188, 189, 34, 255},
	color.RGBA{23, 190, 207, 255},
}

// LatencyPlots draws one LatencyCDF per scenario of a comparison, as
// "cdf-<scenario>.svg" and ".png" files.
func LatencyPlots(c *Comparison, summaries []run.Summary) (map[string][]byte, error) {
	files := map[string][]byte{}
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
		for _, format := range []string{"svg", "png"} {
			data, err := Render(p, format)
			if err != nil {
				return nil, err
			}
			files["cdf-"+sc+"."+format] = data
		}
	}
	return files, nil
}

// WritePlotIndex lists the latency plots in Markdown, one per scenario.
func (c *Comparison) WritePlotIndex(w io.Writer) error {
	var b strings.Builder
	b.WriteString("\n## Convergence latency\n\n")
	for _, sc := range c.Scenarios {
		fmt.Fprintf(&b, "![%s](cdf-%s.png)\n\n", md(sc), sc)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
