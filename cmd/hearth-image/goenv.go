package main

import (
	"os/exec"
	"strings"
)

// goEnv asks the go command for one of its settings.
func goEnv(name string) (string, error) {
	out, err := exec.Command("go", "env", name).Output()
	return strings.TrimSpace(string(out)), err
}
