package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"sort"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/check"
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
