package gateway

import (
	"encoding/csv"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func TestCSVKeepsColumnOrderAndDefusesFormulas(t *testing.T) {
	rec := httptest.NewRecorder()
	body := `{"items":[{"stage":"seed","name":"=HYPERLINK(\"x\")","amount":"-5.00","n":3,"tags":["a"]},{"stage":"growth","extra":null}],"next_cursor":"x"}`
	writeCSV(rec, httptest.NewRequest("GET", "/x?format=csv", nil), []byte(body), nil)
	rows, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"stage", "name", "amount", "n", "tags", "extra"},
		{"seed", `'=HYPERLINK("x")`, "-5.00", "3", `["a"]`, ""},
		{"growth", "", "", "", "", ""},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows = %q", rows)
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d = %q, want %q", i, rows[i], want[i])
		}
	}
	// One page of a longer list links the next.
	if got := rec.Header().Get("Link"); got != `</x?cursor=x&format=csv>; rel="next"` {
		t.Errorf("Link = %q, want the next page", got)
	}
}

func TestCSVOfAnEmptyListHasItsHeader(t *testing.T) {
	type item struct {
		Name  string `json:"name"`
		Stage string `json:"stage,omitempty"`
		Skip  string `json:"-"`
	}
	type list struct {
		Items      []item `json:"items"`
		NextCursor string `json:"next_cursor,omitempty"`
	}
	rec := httptest.NewRecorder()
	writeCSV(rec, httptest.NewRequest("GET", "/x?format=csv", nil), []byte(`{"items":[]}`), reflect.TypeFor[list]())
	if got := rec.Body.String(); got != "name,stage\n" {
		t.Errorf("empty list = %q, want its header row", got)
	}
}
