package reports

import (
	"bytes"
	"html/template"
	"io"
	"strings"
)

// The HTML report is one file: the figures are inline SVG (gonum's SVG with
// its XML prolog taken off; every text in it is escaped by the renderer), the
// rest is html/template, which escapes every name from a scenario or a
// strategy as text. It loads nothing and runs no script.

type htmlFigure struct {
	Title   string
	SVG     template.HTML
	SVGHref string
	PNGHref string
}

type htmlRun struct {
	Strategy string
	Seed     uint64
	Verdict  string
	Dir      string
	Figures  []htmlFigure
	Missing  []string // figure kinds not drawn (no decision, no ReplicaSet)
}

type htmlSection struct {
	ID       string
	Scenario string
	CDF      *htmlFigure
	Runs     []htmlRun
}

type htmlRow struct {
	Row
	Violated, Spared string
}

type htmlData struct {
	Strategies, Scenarios, Seeds string
	LatencyNote, ColumnsNote     string
	FiguresNote                  string
	Rows                         []htmlRow
	Failing                      []FailedRun
	Sections                     []htmlSection
}

var htmlReport = template.Must(template.New("report").Funcs(template.FuncMap{"dash": dash}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ctrlsim comparison</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 80em; padding: 0 1em; color: #222; }
table { border-collapse: collapse; font-size: 90%; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.bad td { background: #fdecea; }
code { background: #f4f4f4; padding: 0.1em 0.3em; }
figure { display: inline-block; margin: 0.5em; vertical-align: top; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 85%; }
details { margin: 0.3em 0; }
summary { cursor: pointer; }
</style>
</head>
<body>
<h1>ctrlsim comparison</h1>
<p>Strategies {{.Strategies}} over scenarios {{.Scenarios}}; seeds {{.Seeds}}.</p>
<h2 id="results">Results</h2>
<p>{{.LatencyNote}}</p>
<table>
<thead><tr><th>scenario</th><th>strategy</th><th>pass</th><th>fail</th><th>unknown</th><th>convergence p50</th><th>p90</th><th>p99</th><th>max</th><th>overshoot</th><th>pods created</th><th>pods deleted</th><th>violations</th><th>scale-downs</th><th>spared by upstream</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr{{if or .Failed .Unknown}} class="bad"{{end}}><td>{{.Scenario}}</td><td>{{.Strategy}}</td><td class="n">{{.Passed}}</td><td class="n">{{.Failed}}</td><td class="n">{{.Unknown}}</td><td class="n">{{dash .ConvergenceP50}}</td><td class="n">{{dash .ConvergenceP90}}</td><td class="n">{{dash .ConvergenceP99}}</td><td class="n">{{dash .ConvergenceMax}}</td><td class="n">{{.MaxOvershoot}}</td><td class="n">{{.PodsCreated}}</td><td class="n">{{.PodsDeleted}}</td><td>{{.Violated}}</td><td class="n">{{.Decisions}}</td><td class="n">{{.Spared}}</td></tr>
{{- end}}
</tbody>
</table>
<p>{{.ColumnsNote}}</p>
{{- if .Failing}}
<h2 id="failing">Runs that did not pass</h2>
<p>Each command replays its run exactly; each run's directory has its summary, history and decisions.</p>
<table>
<thead><tr><th>scenario</th><th>strategy</th><th>seed</th><th>verdict</th><th>why</th><th>replay</th><th>files</th></tr></thead>
<tbody>
{{- range .Failing}}
<tr><td>{{.Scenario}}</td><td>{{.Strategy}}</td><td class="n">{{.Seed}}</td><td>{{.Verdict}}</td><td>{{.Why}}</td><td><code>{{.Replay}}</code></td><td><a href="{{.Dir}}/summary.json">summary</a>{{if .Linearizability}} · <a href="{{.Linearizability}}">porcupine</a>{{end}}</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
<h2 id="figures">Figures</h2>
<p>{{.FiguresNote}}</p>
<ul>
{{- range .Sections}}
<li><a href="#{{.ID}}">{{.Scenario}}</a></li>
{{- end}}
</ul>
{{- range .Sections}}
<section id="{{.ID}}">
<h3>{{.Scenario}}</h3>
{{- with .CDF}}
<figure>{{.SVG}}<figcaption>{{.Title}} (<a href="{{.SVGHref}}">svg</a>{{with .PNGHref}}, <a href="{{.}}">png</a>{{end}})</figcaption></figure>
{{- end}}
{{- range .Runs}}
<details>
<summary>{{.Strategy}}: seed {{.Seed}}, {{.Verdict}} (<a href="{{.Dir}}/summary.json">run</a>)</summary>
{{- range .Figures}}
<figure>{{.SVG}}<figcaption>{{.Title}} (<a href="{{.SVGHref}}">svg</a>{{with .PNGHref}}, <a href="{{.}}">png</a>{{end}})</figcaption></figure>
{{- end}}
{{- if .Missing}}
<p>Not drawn: {{range $i, $m := .Missing}}{{if $i}}; {{end}}{{$m}}{{end}}.</p>
{{- end}}
</details>
{{- end}}
</section>
{{- end}}
</body>
</html>
`))

// inlineSVG is a rendered SVG as an element to put in HTML.
func inlineSVG(svg []byte) template.HTML {
	s := string(svg)
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	return template.HTML(strings.TrimSpace(s))
}

func htmlFig(f Figure) htmlFigure {
	hf := htmlFigure{Title: f.Title, SVG: inlineSVG(f.SVG), SVGHref: href(f.Name + ".svg")}
	if f.PNG != nil {
		hf.PNGHref = href(f.Name + ".png")
	}
	return hf
}

func (r *Report) writeHTML(w io.Writer, cdfs []Figure, runs map[pair]*RunFigures) error {
	c := r.Comparison
	d := htmlData{Strategies: strings.Join(c.Strategies, ", "), Scenarios: strings.Join(c.Scenarios, ", "), Seeds: SeedsText(c.Seeds),
		LatencyNote: latencyNote, ColumnsNote: columnsNote, FiguresNote: figuresNote, Failing: append([]FailedRun(nil), c.Failing...)}
	for _, row := range c.Rows {
		d.Rows = append(d.Rows, htmlRow{Row: row, Violated: row.violatedText(), Spared: row.sparedText()})
	}
	for i := range d.Failing {
		d.Failing[i].Dir = href(d.Failing[i].Dir)
		d.Failing[i].Linearizability = href(d.Failing[i].Linearizability)
	}
	cdfByName := map[string]Figure{}
	for _, f := range cdfs {
		cdfByName[f.Name] = f
	}
	for _, sc := range c.Scenarios {
		sec := htmlSection{ID: "scenario-" + PathName(sc), Scenario: sc}
		if f, ok := cdfByName[CDFName(sc)]; ok {
			hf := htmlFig(f)
			sec.CDF = &hf
		}
		for _, st := range c.Strategies {
			rf := runs[pair{sc, st}]
			if rf == nil {
				continue
			}
			hr := htmlRun{Strategy: st, Seed: rf.Seed, Verdict: rf.Verdict, Dir: href(RunDir(sc, st, rf.Seed))}
			for _, k := range figureKinds {
				if f, ok := rf.Figure(k.kind); ok {
					hr.Figures = append(hr.Figures, htmlFig(f))
				} else {
					hr.Missing = append(hr.Missing, k.label+" ("+k.none+")")
				}
			}
			sec.Runs = append(sec.Runs, hr)
		}
		d.Sections = append(d.Sections, sec)
	}
	var b bytes.Buffer
	if err := htmlReport.Execute(&b, d); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}
