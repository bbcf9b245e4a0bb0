package main_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// The schedule command as a person runs it: the check figures on stdout,
// --help exits 0, a bad flag exits 2 with a message naming it.
func TestScheduleCommand(t *testing.T) {
	bin := binary(t)
	out, err := exec.Command(bin, "schedule", "--principal", "1000000", "--annual-rate", "0.0435", "--months", "36", "--method", "equal_installment").Output()
	if err != nil || !strings.Contains(string(out), "29679.93") || !strings.Contains(string(out), "68477.65") {
		t.Errorf("schedule: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "schedule", "--help").CombinedOutput(); err != nil || !strings.Contains(string(out), "--interest-only-months") {
		t.Errorf("schedule --help: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "schedule", "--principal", "1000000", "--annual-rate", "0.3", "--months", "36").CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "--annual-rate: 0.3 is outside (0, 0.24]") {
		t.Errorf("a rate of 30%%: %v\n%s", err, out)
	}
}
