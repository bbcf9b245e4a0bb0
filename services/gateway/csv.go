package gateway

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
)

// wantsCSV reports whether the client asked for CSV (operators live in
// spreadsheets): Accept: text/csv or ?format=csv.
func wantsCSV(r *http.Request) bool {
	return r.URL.Query().Get("format") == "csv" || strings.Contains(r.Header.Get("Accept"), "text/csv")
}

// writeCSV writes a list result's items (or a single object) as CSV: one
// column per field, nested values as JSON.
func writeCSV(w http.ResponseWriter, r *http.Request, body json.RawMessage) {
	var rows []map[string]json.RawMessage
	var wrapper struct {
		Items []map[string]json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &wrapper); err == nil && wrapper.Items != nil {
		rows = wrapper.Items
	} else {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(body, &one); err != nil {
			WriteProblem(w, r, err)
			return
		}
		rows = []map[string]json.RawMessage{one}
	}
	seen := map[string]bool{}
	var cols []string
	for _, row := range rows {
		for k := range row {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	sort.Strings(cols)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	_ = cw.Write(cols)
	for _, row := range rows {
		rec := make([]string, len(cols))
		for i, c := range cols {
			v := row[c]
			var s string
			if err := json.Unmarshal(v, &s); err == nil {
				rec[i] = s
			} else if string(v) != "null" {
				rec[i] = string(v)
			}
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
}
