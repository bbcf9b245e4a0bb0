package fundbridge

import (
	"fmt"
	"slices"
	"strings"
)

// Stage is where a company is in its lifecycle. Views slice by the stage
// a company was at when each event happened.
type Stage string

const (
	StageSeed      Stage = "seed"      // 种子期
	StageStartup   Stage = "startup"   // 初创期
	StageGrowth    Stage = "growth"    // 成长期
	StageExpansion Stage = "expansion" // 扩张期
	StagePreIPO    Stage = "pre_ipo"   // Pre-IPO
)

// Stages in lifecycle order.
var Stages = []Stage{StageSeed, StageStartup, StageGrowth, StageExpansion, StagePreIPO}

// Valid reports whether s is a known stage.
func (s Stage) Valid() bool { return slices.Contains(Stages, s) }

// Layer is the AI industry layer a company works in.
type Layer string

const (
	LayerFoundation  Layer = "foundation"
	LayerTechnology  Layer = "technology"
	LayerApplication Layer = "application"
)

// Layers in order, bottom up.
var Layers = []Layer{LayerFoundation, LayerTechnology, LayerApplication}

// Valid reports whether l is a known layer.
func (l Layer) Valid() bool { return slices.Contains(Layers, l) }

// Sector is a company's sector within its layer.
type Sector string

// Sectors of each layer.
var sectorsByLayer = map[Layer][]Sector{
	LayerFoundation: {"ai_chips", "smart_sensors", "cloud_computing", "big_data"},
	LayerTechnology: {"machine_learning", "brain_inspired_computing", "computer_vision", "nlp", "speech", "biometrics"},
	LayerApplication: {"robotics", "autonomous_driving", "smart_home", "healthcare", "agriculture",
		"manufacturing", "finance", "security", "city_governance"},
}

// SectorsOf lists the sectors of a layer.
func SectorsOf(l Layer) []Sector { return slices.Clone(sectorsByLayer[l]) }

// AllSectors lists every sector, layer by layer.
func AllSectors() []Sector {
	var out []Sector
	for _, l := range Layers {
		out = append(out, sectorsByLayer[l]...)
	}
	return out
}

// Layer is the layer the sector belongs to; "" for an unknown sector.
func (s Sector) Layer() Layer {
	for l, ss := range sectorsByLayer {
		if slices.Contains(ss, s) {
			return l
		}
	}
	return ""
}

// Valid reports whether s is a known sector.
func (s Sector) Valid() bool { return s.Layer() != "" }

// Instrument is a way of financing a company.
type Instrument string

const (
	InstrumentEquity          Instrument = "equity"
	InstrumentVentureLoan     Instrument = "venture_loan"
	InstrumentLoanPlusEquity  Instrument = "loan_plus_equity" // 贷款+外部直投
	InstrumentPatentInsurance Instrument = "patent_insurance"
)

// Instruments lists every instrument.
var Instruments = []Instrument{InstrumentEquity, InstrumentVentureLoan, InstrumentLoanPlusEquity, InstrumentPatentInsurance}

// Valid reports whether i is a known instrument.
func (i Instrument) Valid() bool { return slices.Contains(Instruments, i) }

// City is where a company is registered, by its pinyin name.
type City string

// Cities the market knows, the seed cities first.
var Cities = []City{
	"beijing", "shanghai", "shenzhen", "hangzhou", "guangzhou",
	"chengdu", "nanjing", "suzhou", "wuhan", "xian", "hefei", "tianjin",
	"chongqing", "xiamen", "changsha", "qingdao", "dalian", "shenyang", "jinan", "zhengzhou",
}

// Valid reports whether c is a known city.
func (c City) Valid() bool { return slices.Contains(Cities, c) }

// Choices lists names for a sentence: "a, b or c".
func Choices(names []string) string {
	if n := len(names); n > 1 {
		return strings.Join(names[:n-1], ", ") + " or " + names[n-1]
	}
	return strings.Join(names, "")
}

// EnumError is the reason for an invalid enum value, listing what is
// allowed as a person would write the list: "venture" is not allowed: use
// one of seed, angel, vc, pe, guidance or industry.
func EnumError[T ~string](value T, allowed []T) string {
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	list := Choices(names)
	if value == "" {
		return "is required: use one of " + list
	}
	return fmt.Sprintf("%q is not allowed: use one of %s", string(value), list)
}
