package gateway

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
)

// wantsCSV reports whether the client asked for CSV (operators live in
// spreadsheets): Accept: text/csv or ?format=csv.
func wantsCSV(r *http.Request) bool {
	return r.URL.Query().Get("format") == "csv" || strings.Contains(r.Header.Get("Accept"), "text/csv")
}

// writeCSV writes a list result's items (or a single object) as CSV: one
// column per field in the order the service gives them, nested values as
// JSON. An empty list still has its header row, from the reply type
// (reply: the endpoint's reply type; nil if unknown).
func writeCSV(w http.ResponseWriter, r *http.Request, body json.RawMessage, reply reflect.Type) {
	var rows []json.RawMessage
	var wrapper map[string]json.RawMessage
	_ = json.Unmarshal(body, &wrapper)
	if items, isList := wrapper["items"]; isList {
		_ = json.Unmarshal(items, &rows) // null: an empty list
	} else {
		rows = []json.RawMessage{body}
	}
	var cols []string
	seen := map[string]bool{}
	records := make([]map[string]json.RawMessage, len(rows))
	for i, row := range rows {
		keys, err := objectKeys(row)
		if err != nil {
			WriteProblem(w, r, err)
			return
		}
		for _, k := range keys {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
		if err := json.Unmarshal(row, &records[i]); err != nil {
			WriteProblem(w, r, err)
			return
		}
	}
	if len(rows) == 0 {
		cols = itemColumns(reply)
	}
	// A CSV holds one page: the next is linked, as a client of the JSON
	// reads next_cursor, so a file cut at the page size says so.
	var next string
	if c, ok := wrapper["next_cursor"]; ok && json.Unmarshal(c, &next) == nil && next != "" {
		u := *r.URL
		q := u.Query()
		q.Set("cursor", next)
		u.RawQuery = q.Encode()
		w.Header().Set("Link", "<"+u.RequestURI()+`>; rel="next"`)
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	_ = cw.Write(cols)
	for _, rec := range records {
		out := make([]string, len(cols))
		for i, c := range cols {
			out[i] = cell(rec[c])
		}
		_ = cw.Write(out)
	}
	cw.Flush()
}

// objectKeys lists a JSON object's keys in their order.
func objectKeys(obj json.RawMessage) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// cell renders one value. A text that a spreadsheet would take for a
// formula is quoted with a leading apostrophe, so that a company named
// "=HYPERLINK(...)" stays text.
func cell(v json.RawMessage) string {
	if len(v) == 0 || string(v) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return string(v) // numbers, booleans, nested values as JSON
	}
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) && !looksNumeric(s) {
		return "'" + s
	}
	return s
}

func looksNumeric(s string) bool {
	for i, c := range s {
		if !(c >= '0' && c <= '9' || c == '.' || (i == 0 && (c == '-' || c == '+'))) {
			return false
		}
	}
	return len(s) > 1
}

// itemColumns lists the JSON names of a list reply's items, in the order
// encoding/json writes them: the header of an empty list.
func itemColumns(reply reflect.Type) []string {
	f, ok := queryField(reply, "items")
	if !ok || f.Type.Kind() != reflect.Slice {
		return nil
	}
	return jsonNames(f.Type.Elem())
}
