package matching

import (
	"fmt"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
)

// The arguments of a reason: each prints as the English sentence always
// wrote it and tells its kind and value for the reason's params, so the
// sentence and its code never disagree.

// human is an amount written "¥50m" in the English sentence.
type human money.Amount

func (h human) String() string { return money.Amount(h).Human() }

// pct is a fraction written "20.00%".
type pct decimal.Decimal

func (p pct) String() string { return percent(decimal.Decimal(p)) }

// amountRange is a range of amounts written "¥1m–¥100m".
type amountRange struct{ min, max money.Amount }

func (r amountRange) String() string { return r.min.Human() + "–" + r.max.Human() }

// listed is a list of enum values written "seed, startup".
type listed[T ~string] []T

func listOf[T ~string](vs []T) listed[T] { return listed[T](vs) }

func (l listed[T]) String() string { return list([]T(l)) }

func (l listed[T]) param() matchingapi.ReasonParam {
	var zero T
	p := matchingapi.ReasonParam{Kind: paramOf(zero).Kind, Values: make([]string, len(l))}
	for i, v := range l {
		p.Values[i] = string(v)
	}
	return p
}

// reasonOf is the code and params of a sentence formatted from args.
func reasonOf(code string, args []any) matchingapi.Reason {
	r := matchingapi.Reason{Code: code}
	for _, a := range args {
		r.Params = append(r.Params, paramOf(a))
	}
	return r
}

func paramOf(arg any) matchingapi.ReasonParam {
	one := func(kind, v string) matchingapi.ReasonParam {
		return matchingapi.ReasonParam{Kind: kind, Values: []string{v}}
	}
	switch v := arg.(type) {
	case fundbridge.Stage:
		return one("stage", string(v))
	case fundbridge.Sector:
		return one("sector", string(v))
	case fundbridge.Layer:
		return one("layer", string(v))
	case fundbridge.City:
		return one("city", string(v))
	case fundbridge.Instrument:
		return one("instrument", string(v))
	case human:
		return one("amount", money.Amount(v).String())
	case pct:
		return one("percent", decimal.Decimal(v).String())
	case amountRange:
		return matchingapi.ReasonParam{Kind: "amount_range", Values: []string{v.min.String(), v.max.String()}}
	case int:
		return one("count", strconv.Itoa(v))
	case interface {
		param() matchingapi.ReasonParam
	}:
		return v.param()
	}
	return one("text", fmt.Sprint(arg))
}
