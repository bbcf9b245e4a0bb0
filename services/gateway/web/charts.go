package web

import (
	"encoding/csv"
	"net/http"

	"github.com/shopspring/decimal"
)

// chart is a bar chart the server draws as SVG: readable without
// JavaScript and printable, with the same figures as a table and a CSV.
// Categories run down the page; each has one bar per series.
type chart struct {
	ID         string
	Title      string
	Series     []string // translated
	Categories []category
	Money      bool // values are amounts (formatted as money) or counts

	Width, Height int
	Bars          []bar
	Labels        []axisLabel
}

type category struct {
	Label  string
	Values []decimal.Decimal
}

type bar struct {
	X, Y, W, H int
	Class      string
	Title      string
	Value      string // written at the bar's end
}

type axisLabel struct {
	X, Y int
	Text string
}

// Chart geometry, in SVG user units.
const (
	chartLabelWidth = 150
	chartPlotWidth  = 360
	chartValueWidth = 150 // room for the value after the longest bar
	chartBarHeight  = 12
	chartGap        = 10
)

// layout computes the bars: each value's length is its share of the
// largest value, to the whole unit (geometry, not money).
func (c *chart) layout(l *locale) {
	max := decimal.Zero
	for _, cat := range c.Categories {
		for _, v := range cat.Values {
			if v.GreaterThan(max) {
				max = v
			}
		}
	}
	n := len(c.Series)
	y := chartGap
	c.Bars, c.Labels = nil, nil
	for _, cat := range c.Categories {
		c.Labels = append(c.Labels, axisLabel{X: chartLabelWidth - 6, Y: y + n*chartBarHeight/2 + 4, Text: cat.Label})
		for i, v := range cat.Values {
			w := 0
			if max.IsPositive() {
				w = int(v.Mul(decimal.NewFromInt(chartPlotWidth)).Div(max).IntPart())
			}
			if w == 0 && v.IsPositive() {
				w = 1
			}
			c.Bars = append(c.Bars, bar{X: chartLabelWidth, Y: y, W: w, H: chartBarHeight - 2, Class: "s" + itoa(i),
				Title: cat.Label + " · " + c.Series[i] + ": " + c.format(l, v), Value: c.format(l, v)})
			y += chartBarHeight
		}
		y += chartGap
	}
	c.Width = chartLabelWidth + chartPlotWidth + chartValueWidth
	c.Height = y
}

func (c *chart) format(l *locale, v decimal.Decimal) string {
	if c.Money {
		return l.Money(v)
	}
	return v.String()
}

// writeCSV writes the chart's figures: one row per category, one column
// per series, amounts as the API writes them.
func (c *chart) writeCSV(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+c.ID+`.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write(append([]string{""}, c.Series...))
	for _, cat := range c.Categories {
		row := []string{cat.Label}
		for _, v := range cat.Values {
			if c.Money {
				row = append(row, v.StringFixed(2))
			} else {
				row = append(row, v.String())
			}
		}
		_ = cw.Write(row)
	}
	cw.Flush()
}

func itoa(i int) string { return decimal.NewFromInt(int64(i)).String() }
