package gocomments

import "testing"

func TestExtractReadsTheContractsComments(t *testing.T) {
	root, err := Root(".")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Extract(root)
	if err != nil {
		t.Fatal(err)
	}
	if c := m[Module+"/money.Amount"]; c == "" {
		t.Errorf("no comment for money.Amount among %d", len(m))
	}
}
