package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func schedule(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"schedule"}, args...), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestSchedulePrintsTheIssueCheck(t *testing.T) {
	out, _, err := schedule(t, "--principal", "1000000", "--annual-rate", "0.0435", "--months", "36", "--method", "equal_installment")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 38 {
		t.Fatalf("%d lines, want a header, 36 periods and a total:\n%s", len(lines), out)
	}
	for i, want := range map[int][]string{
		0:  {"period", "payment", "principal", "interest", "balance"},
		1:  {"1", "29679.93", "26054.93", "3625.00", "973945.07"},
		36: {"36", "29680.10", "29572.90", "107.20", "0.00"},
		37: {"total", "1068477.65", "1000000.00", "68477.65"},
	} {
		if got := strings.Fields(lines[i]); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("line %d = %q, want %q", i, got, want)
		}
	}
}

func TestScheduleJSON(t *testing.T) {
	out, _, err := schedule(t, "--principal", "120000", "--annual-rate", "0.06", "--months", "12", "--method", "equal_principal", "--interest-only-months", "2", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Terms struct {
			AnnualRate         string `json:"annual_rate"`
			InterestOnlyMonths int    `json:"interest_only_months"`
		} `json:"terms"`
		Periods []struct {
			Period    int    `json:"period"`
			Principal string `json:"principal"`
			Interest  string `json:"interest"`
			Balance   string `json:"balance"`
		} `json:"periods"`
		TotalInterest string `json:"total_interest"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	// Two months of interest only, then 120,000 / 10 = 12,000 a month.
	if s.Terms.AnnualRate != "0.06" || s.Terms.InterestOnlyMonths != 2 || len(s.Periods) != 12 ||
		s.Periods[1].Principal != "0.00" || s.Periods[1].Interest != "600.00" || s.Periods[2].Principal != "12000.00" ||
		s.Periods[11].Balance != "0.00" || s.Periods[11].Interest != "60.00" {
		t.Errorf("schedule %+v", s)
	}
}

func TestScheduleHelpAndBadInput(t *testing.T) {
	if _, usage, err := schedule(t, "--help"); err != nil || !strings.Contains(usage, "--annual-rate") {
		t.Errorf("--help: %v, printed %q", err, usage)
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--principal", "1000000", "--annual-rate", "0.25", "--months", "36"}, []string{"--annual-rate: 0.25 is outside (0, 0.24]"}},
		{[]string{"--principal", "1000000", "--annual-rate", "4.35%", "--months", "36"}, []string{"--annual-rate:", "not a decimal fraction"}},
		{[]string{"--principal", "1,000,000", "--annual-rate", "0.0435", "--months", "361"}, []string{"--principal:", "--months: 361 is outside 1 to 360"}},
		{[]string{"--principal", "1000", "--annual-rate", "0.04", "--months", "12", "--method", "balloon"}, []string{`--method: "balloon" is not allowed: use one of`}},
		{[]string{"--principal", "1000", "--annual-rate", "0.04", "--months", "12", "--interest-only-months", "12"}, []string{"--interest-only-months: 12 must be fewer than the 12 months"}},
		{[]string{"--annual-rate", "0.04", "--months", "12"}, []string{"--principal: required"}},
		{[]string{"--principal", "1000", "--annual-rate", "0.04"}, []string{"--months: required"}},
		{[]string{"--months", "twelve"}, []string{"-months"}},
	} {
		out, _, err := schedule(t, c.args...)
		if err == nil || !errors.Is(err, errUsage) || out != "" {
			t.Errorf("%v: %v, printed %q; want a usage error and nothing printed", c.args, err, out)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: %q does not say %q", c.args, err, w)
			}
		}
	}
}
