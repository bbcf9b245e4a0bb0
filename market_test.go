package fundbridge

import "testing"

// An enum refusal reads as a sentence and lists what is allowed.
func TestEnumErrorReadsAsASentence(t *testing.T) {
	if got, want := EnumError(Stage("series_a"), Stages), `"series_a" is not allowed: use one of seed, startup, growth, expansion or pre_ipo`; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	if got := EnumError(Stage(""), Stages); got != "is required: use one of seed, startup, growth, expansion or pre_ipo" {
		t.Errorf("an empty value: %s", got)
	}
}
