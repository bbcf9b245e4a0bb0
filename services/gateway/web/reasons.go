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
	sep := ", "
	if p.Code == "zh" {
		sep = "、"
	}
	parts := make([]string, len(prm.Values))
	for i, v := range prm.Values {
		switch prm.Kind {
		case "stage", "sector", "layer", "city", "instrument":
			parts[i] = p.Enum(prm.Kind, v)
		case "amount", "amount_range":
			if a, err := money.Parse("value", v); err == nil {
				parts[i] = p.Money(a)
			} else {
				parts[i] = v
			}
		case "percent":
			parts[i] = p.Percent(v)
		default:
			parts[i] = v
		}
	}
	switch {
	case prm.Kind == "amount_range":
		return strings.Join(parts, "–")
	case len(parts) == 0:
		return p.T("why.none")
	}
	return strings.Join(parts, sep)
}
