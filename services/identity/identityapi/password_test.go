package identityapi

import (
	"strings"
	"testing"

	"github.com/fundbridge/fundbridge"
)

func TestPasswordPolicy(t *testing.T) {
	const email, name = "founder.wang@zhiyuan.ai", "Wang Fang"
	for _, bad := range []string{
		"aaaaaaaaaa", "1234567890", "password12", strings.Repeat(" ", 10), // the examples
		"", "short", strings.Repeat("a", 12), strings.Repeat(" ", 14), "123456789012", "passwordpassword",
		"qwertyuiopasdf", "iloveyou1234", "abcabcabcabc", "P@ssw0rd2024!",
		"founder.wang-rocks", "my zhiyuan founder.wang", // the email's name
		strings.Repeat("长", 80), // over bcrypt's 72 bytes
	} {
		if passwordProblem(bad, email, name) == "" {
			t.Errorf("password %q accepted", bad)
		}
	}
	for _, good := range []string{"correct horse battery staple", "teal walrus quietly hums", "Fb-demo-3f9a1c22b0e4", "长城上的风很大而且冷得发抖"} {
		if why := passwordProblem(good, email, name); why != "" {
			t.Errorf("password %q refused: %s", good, why)
		}
	}
}

func TestWeakPasswordIsA400NamingPassword(t *testing.T) {
	for _, weak := range []string{"aaaaaaaaaa", "1234567890", "password12", strings.Repeat(" ", 10)} {
		cmd := SignupCommand{NewUser: NewUser{Email: "wang@zhiyuan.ai", Password: weak, Name: "Wang"}, Company: []byte(`{}`)}
		err := cmd.Validate()
		fields := fundbridge.ErrorFields(err)
		if fundbridge.ErrorCode(err) != fundbridge.EINVALID || len(fields) != 1 || fields[0].Field != "password" || fields[0].Reason == "" {
			t.Errorf("sign-up with %q = %v, want invalid naming password", weak, err)
		}
		org := CreateOrgCommand{Name: "Qiming", Role: fundbridge.RoleFundManager, User: cmd.NewUser}
		if fields := fundbridge.ErrorFields(org.Validate()); len(fields) != 1 || fields[0].Field != "user.password" {
			t.Errorf("onboarding with %q names %v, want user.password", weak, fields)
		}
	}
}
