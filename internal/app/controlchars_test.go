package app_test

import (
	"testing"
)

// Names are one line, and no text holds a NUL or a terminal escape: they
// would reach every page, CSV and log that shows it. Each is a 400
// naming the field, and nothing is made.
func TestNamesAndTextRefuseControlCharacters(t *testing.T) {
	p := start(t)
	for _, c := range []struct {
		what  string
		body  map[string]any
		field string
	}{
		{"a person's name with a terminal escape", map[string]any{"email": "a@ctl.cn", "password": "river stone lantern", "name": "Wang\x1b[31mFang",
			"company": company(51, "seed")}, "name"},
		{"a person's name over two lines", map[string]any{"email": "b@ctl.cn", "password": "river stone lantern", "name": "Wang\nFang",
			"company": company(52, "seed")}, "name"},
		{"a company's name over two lines", map[string]any{"email": "c@ctl.cn", "password": "river stone lantern", "name": "Wang Fang",
			"company": withName(company(53, "seed"), "智元\n视觉")}, "company.name"},
		{"a company's name with a NUL", map[string]any{"email": "d@ctl.cn", "password": "river stone lantern", "name": "Wang Fang",
			"company": withName(company(54, "seed"), "智元\x00视觉")}, "company.name"},
	} {
		r := p.do("POST", "/api/v1/auth/signup", "", c.body)
		t.Logf("%s: %d %s", c.what, r.status, r.raw)
		if r.status != 400 || !hasField(r, c.field) {
			t.Errorf("signing up with %s = %d %s, want 400 naming %s", c.what, r.status, r.raw, c.field)
		}
	}
	if r := p.do("POST", "/api/v1/orgs", p.opToken, map[string]any{"name": "Matrix\x00", "role": "fund_manager",
		"user": map[string]any{"email": "fm@matrix.cn", "password": "river stone lantern", "name": "Fund Manager"}}); r.status != 400 || !hasField(r, "name") {
		t.Errorf("an org named with a NUL = %d %s, want 400 naming name", r.status, r.raw)
	}

	startup, companyID := p.signUp(55, "seed")
	if r := p.do("PATCH", "/api/v1/companies/"+companyID, startup, map[string]any{"name": "智元\r\n视觉"}); r.status != 400 || !hasField(r, "name") {
		t.Errorf("renaming the company over two lines = %d %s", r.status, r.raw)
	}
	if r := p.do("POST", "/api/v1/companies/"+companyID+"/patents", startup, map[string]any{"number": "CN202310123456.6", "kind": "invention",
		"title": "一种\x07图像识别方法", "filed_on": "2023-02-01", "granted_on": "2024-08-01", "holding": "owner"}); r.status != 400 || !hasField(r, "title") {
		t.Errorf("a patent titled with a bell = %d %s", r.status, r.raw)
	}
	if r := p.do("POST", "/api/v1/applications", startup, map[string]any{"amount_requested": "1000000.00", "instruments": []string{"equity"},
		"use_of_funds": "GPUs\x00 and more"}); r.status != 400 || !hasField(r, "use_of_funds") {
		t.Errorf("use of funds with a NUL = %d %s", r.status, r.raw)
	}
	// Free text keeps its line breaks and tabs.
	if r := p.do("POST", "/api/v1/applications", startup, map[string]any{"amount_requested": "1000000.00", "instruments": []string{"equity"},
		"use_of_funds": "GPUs:\n\t- training\r\n\t- inference"}); r.status != 201 {
		t.Errorf("use of funds over several lines = %d %s", r.status, r.raw)
	}
}

func withName(c map[string]any, name string) map[string]any {
	c["name"] = name
	return c
}

func hasField(r response, field string) bool {
	for _, f := range r.problemFields() {
		if f == field {
			return true
		}
	}
	return false
}
