package web

import (
	"strings"

	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
)

// Why writes a match's reasons in the reader's language: the match
// engine gives each English sentence a code and the values it names
// (matchingapi.Reason, index by index); a code the catalog knows ("why.
// <code>") is written from them, any other sentence stays as the engine
// wrote it.
func (p *page) Why(texts []string, codes []matchingapi.Reason) []string {
	if p.Code == "en" || len(codes) != len(texts) {
		return texts
	}
	out := make([]string, len(texts))
	for i, r := range codes {
		key := "why." + r.Code
		if _, known := messages[key]; !known {
			out[i] = texts[i]
			continue
		}
		args := make([]any, len(r.Params))
		for k, prm := range r.Params {
			args[k] = p.reasonValue(prm)
		}
		out[i] = p.T(key, args...)
	}
	return out
}

// reasonValue writes one value a reason names.
func (p *page) reasonValue(prm matchingapi.ReasonParam) string {
	return p.paramValue(prm.Kind, prm.Values)
}

// enumKinds are the param kinds whose values are an enum's, written
// from the catalog ("<kind>.<value>").
var enumKinds = map[string]bool{"stage": true, "sector": true, "layer": true, "city": true, "instrument": true,
	"step": true, "sequence": true, "coverage": true, "patent_kind": true}

// paramValue writes the values of one param of a sentence written from
// a code (a match reason, a timeline entry) by their kind: enums from the
// catalog, amounts and percents the reader's way, days as its dates;
// anything else (a name, an ID, a person's reason) as it is.
func (p *page) paramValue(kind string, values []string) string {
	sep := p.T("list.separator")
	parts := make([]string, len(values))
	for i, v := range values {
		switch {
		case enumKinds[kind]:
			parts[i] = p.Enum(kind, v)
		case kind == "amount", kind == "amount_range":
			if a, err := money.Parse("value", v); err == nil {
				parts[i] = p.Money(a)
			} else {
				parts[i] = v
			}
		case kind == "percent":
			parts[i] = p.Percent(v)
		case kind == "date":
			parts[i] = p.Date(v)
		default:
			parts[i] = v
		}
	}
	switch {
	case kind == "amount_range":
		return strings.Join(parts, "–")
	case len(parts) == 0:
		return p.T("why.none")
	}
	return strings.Join(parts, sep)
}
