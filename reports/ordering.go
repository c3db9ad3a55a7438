package reports

import (
	"fmt"
	"image/color"
	"math"
	"strconv"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/trace"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// OrderingPoints is the most candidates the ordering plot draws; past it, one
// candidate in k is drawn (the title says so).
const OrderingPoints = 1000

// maxSeparators: past this many decisions, the lines between them are left
// out (they would grey the whole plot).
const maxSeparators = 60

// Colours and glyphs of the ordering plot.
var (
	chosenColor = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	sparedColor = color.RGBA{R: 100, G: 100, B: 100, A: 255}
)

// orderingAttrs are the rank attributes the ordering plot shows, one panel
// each, top to bottom.
var orderingAttrs = []struct {
	label string
	value func(c trace.Candidate, now time.Time) (float64, bool)
}{
	{"pod age (s)", func(c trace.Candidate, now time.Time) (float64, bool) {
		created, err := time.Parse(time.RFC3339Nano, c.Created)
		if err != nil || now.IsZero() {
			return 0, false
		}
		return now.Sub(created).Seconds(), true
	}},
	{"related pods on its node", func(c trace.Candidate, _ time.Time) (float64, bool) { return float64(c.Rank), true }},
	{"deletion cost", func(c trace.Candidate, _ time.Time) (float64, bool) { return float64(c.DeletionCost), true }},
}

// OrderingPlot draws a run's scale-down decisions as three panels, one above
// the other, that share the x axis: the deletion order. The pods a
// controller chose are numbered 1, 2, … in the order it chose them, decision
// after decision, and drawn at their number (filled red dots); the candidates
// it spared are spread over their decision's stretch of the axis (grey
// rings); thin lines separate the decisions. The panels show each
// candidate's rank attributes: its age when the decision was made (from the
// decision's Now), the active pods of its owner on its node (Rank), and its
// pod-deletion-cost. It returns nil when there is no decision.
func OrderingPlot(title string, decisions []trace.Decision) ([]*plot.Plot, error) {
	if len(decisions) == 0 {
		return nil, nil
	}
	o := layoutOrdering(decisions)
	points, bounds, next, stride, total := o.points, o.bounds, o.next, o.stride, o.total
	var plots []*plot.Plot
	for a, attr := range orderingAttrs {
		p := plot.New()
		p.Y.Label.Text = attr.label
		p.X.Min, p.X.Max = 0.3, float64(next)-0.3
		p.X.Tick.Marker = intTicks{}
		if a == 0 {
			p.Title.Text = title
		}
		if a == len(orderingAttrs)-1 {
			p.X.Label.Text = "deletion order (pods chosen, decision after decision)"
			if stride > 1 {
				p.X.Label.Text = fmt.Sprintf("deletion order (1 in %d of %d candidates drawn)", stride, total)
			}
		}
		if len(bounds) <= maxSeparators {
			p.Add(vlines{xs: bounds})
		}
		var chosen, spared plotter.XYs
		for _, pt := range points {
			v, ok := attr.value(pt.c, pt.now)
			if !ok {
				continue
			}
			if pt.chosen {
				chosen = append(chosen, plotter.XY{X: pt.x, Y: v})
			} else {
				spared = append(spared, plotter.XY{X: pt.x, Y: v})
			}
		}
		for _, s := range []struct {
			name  string
			xys   plotter.XYs
			glyph draw.GlyphDrawer
			color color.Color
		}{
			{"spared", spared, draw.RingGlyph{}, sparedColor},
			{"chosen", chosen, draw.CircleGlyph{}, chosenColor},
		} {
			if len(s.xys) == 0 {
				continue
			}
			sc, err := plotter.NewScatter(s.xys)
			if err != nil {
				return nil, err
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: s.color, Radius: vg.Points(2.5), Shape: s.glyph}
			p.Add(sc)
			if a == 0 {
				p.Legend.Add(s.name, sc)
			}
		}
		p.Legend.Top = true
		if a == 0 {
			// Room for the legend above the points.
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, xys := range []plotter.XYs{chosen, spared} {
				for _, xy := range xys {
					lo, hi = min(lo, xy.Y), max(hi, xy.Y)
				}
			}
			if lo <= hi {
				p.Y.Max = hi + max(hi-lo, 1)*0.35
			}
		}
		plots = append(plots, p)
	}
	return plots, nil
}

// orderingPoint is a candidate of a decision placed on the deletion-order
// axis.
type orderingPoint struct {
	x      float64
	c      trace.Candidate
	now    time.Time
	chosen bool
}

// orderingLayout is where OrderingPlot draws the candidates.
type orderingLayout struct {
	points []orderingPoint
	bounds []float64 // x of the line after each decision but the last
	next   int       // one past the last deletion number
	stride int       // one candidate in stride is drawn
	total  int       // candidates in all
}

// layoutOrdering numbers the chosen pods 1, 2, … in the order they were
// chosen, decision after decision, and spreads each decision's spared
// candidates (in the order the controller considered them) over the
// decision's stretch [first−0.4, last+0.4], nudged off the whole numbers
// where a chosen pod may be drawn. Past OrderingPoints candidates, one in
// stride is kept.
func layoutOrdering(decisions []trace.Decision) orderingLayout {
	o := orderingLayout{next: 1}
	for _, d := range decisions {
		o.total += len(d.Candidates)
	}
	o.stride = max(1, (o.total+OrderingPoints-1)/OrderingPoints)
	seen := 0
	for i, d := range decisions {
		now, _ := time.Parse(time.RFC3339Nano, d.Now)
		chosen := map[string]int{}
		for k, name := range d.Chosen {
			if _, dup := chosen[name]; !dup {
				chosen[name] = k
			}
		}
		first := float64(o.next)
		last := float64(o.next + max(1, len(d.Chosen)) - 1)
		var spared []trace.Candidate
		for _, c := range d.Candidates {
			k, isChosen := chosen[c.Name]
			seen++
			if (seen-1)%o.stride != 0 {
				continue
			}
			if isChosen {
				o.points = append(o.points, orderingPoint{x: first + float64(k), c: c, now: now, chosen: true})
			} else {
				spared = append(spared, c)
			}
		}
		for j, c := range spared {
			x := first - 0.4 + (last-first+0.8)*(float64(j)+0.5)/float64(len(spared))
			if math.Abs(x-math.Round(x)) < 0.1 {
				x += 0.2
			}
			o.points = append(o.points, orderingPoint{x: x, c: c, now: now})
		}
		o.next += max(1, len(d.Chosen))
		if i < len(decisions)-1 {
			o.bounds = append(o.bounds, float64(o.next)-0.5)
		}
	}
	return o
}

// intTicks marks whole numbers only, at most about ten of them labelled.
type intTicks struct{}

func (intTicks) Ticks(lo, hi float64) []plot.Tick {
	span := hi - lo
	step := 1.0
	for k := 1.0; span/step > 10; k *= 10 {
		for _, m := range []float64{1, 2, 5, 10} {
			if step = m * k; span/step <= 10 {
				break
			}
		}
	}
	var out []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return out
}

// vlines draws thin vertical lines at xs over the data area.
type vlines struct{ xs []float64 }

func (v vlines) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	style := draw.LineStyle{Color: color.Gray{Y: 200}, Width: vg.Points(0.5)}
	for _, x := range v.xs {
		px := trX(x)
		if px < c.Min.X || px > c.Max.X {
			continue
		}
		c.StrokeLine2(style, px, c.Min.Y, px, c.Max.Y)
	}
}
