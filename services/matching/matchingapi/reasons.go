package matchingapi

// Reason is one reason of a match as a code and the values it names,
// beside the English sentence at the same index of reasons_for or
// reasons_against, so that a page can write it in its reader's language.
// A code keeps its meaning; a new sentence is a new code.
type Reason struct {
	// Code names the sentence, e.g. "stage_in_mandate".
	Code string `json:"code" jsonschema_description:"Names the sentence, e.g. stage_in_mandate; the English text at the same index says it in words."`
	// Params are the values the sentence names, in its order.
	Params []ReasonParam `json:"params,omitempty" jsonschema_description:"The values the sentence names, in the order it names them."`
}

// ReasonParam is one value a reason names, with its kind so a page can
// write it: stage, sector, layer, city and instrument are the enums'
// values; amount is yuan as a decimal string; amount_range two amounts;
// percent a fraction ("0.2" is 20%); count a whole number; text as it is.
type ReasonParam struct {
	// Kind is stage, sector, layer, city, instrument, amount, amount_range, percent, count or text.
	Kind string `json:"kind" jsonschema_description:"stage, sector, layer, city, instrument, amount (yuan), amount_range (two amounts), percent (a fraction), count or text."`
	// Values holds one value, or a list (stages, cities, instruments).
	Values []string `json:"values" jsonschema_description:"One value, or a list of values of the kind (stages, cities, instruments)."`
}
