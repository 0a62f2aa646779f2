package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hearth-chat/hearth/emulator"
	"github.com/hearth-chat/hearth/rules"
)

const rulesUsage = `Usage:
  hearth rules render [--check]
      write rules/firestore.rules and rules/storage.rules from the templates and
      the Go limits; --check only reports files that differ (exit 1), for CI
  hearth rules deploy --emulator [--host HOST:PORT] [--project P]
      load the Firestore rules into a running Firestore emulator
  hearth rules deploy --project P [--bucket B] [--dry-run]
      publish the Firestore and Storage rules through the Firebase Rules API
      (Application Default Credentials); --dry-run prints what would change`

// runRules is `hearth rules`.
func runRules(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, rulesUsage)
		return 2
	}
	switch args[0] {
	case "render":
		return rulesRender(args[1:], stdout, stderr)
	case "deploy":
		return rulesDeploy(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, rulesUsage)
		return 0
	}
	fmt.Fprintf(stderr, "hearth rules: unknown subcommand %q\n\n%s\n", args[0], rulesUsage)
	return 2
}

// rulesPaths returns the rendered rules files of the checkout, as firebase.json names them.
func rulesPaths() (firestorePath, storagePath string, cfg emulator.Config, err error) {
	root, err := emulator.FindRoot(".")
	if err != nil {
		return "", "", cfg, err
	}
	cfg, err = emulator.LoadConfig(root)
	if err != nil {
		return "", "", cfg, err
	}
	fsPath, stPath := cfg.FirestoreRules, cfg.StorageRules
	if fsPath == "" {
		fsPath = rules.FirestoreRulesPath
	}
	if stPath == "" {
		stPath = rules.StorageRulesPath
	}
	return filepath.Join(root, fsPath), filepath.Join(root, stPath), cfg, nil
}

func rulesRender(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rules render", flag.ContinueOnError)
	fs.SetOutput(stderr)
	check := fs.Bool("check", false, "do not write; exit 1 when a rendered file is missing or out of date")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fsPath, stPath, _, err := rulesPaths()
	if err != nil {
		fmt.Fprintln(stderr, "hearth rules render:", err)
		return 1
	}
	if *check {
		stale, err := rules.Stale(fsPath, stPath)
		if err != nil {
			fmt.Fprintln(stderr, "hearth rules render:", err)
			return 1
		}
		for _, p := range stale {
			fmt.Fprintf(stderr, "%s is out of date: run `hearth rules render`\n", p)
		}
		if len(stale) > 0 {
			return 1
		}
		fmt.Fprintln(stdout, "rules are up to date")
		return 0
	}
	written, err := rules.WriteRendered(fsPath, stPath)
	if err != nil {
		fmt.Fprintln(stderr, "hearth rules render:", err)
		return 1
	}
	for _, p := range written {
		fmt.Fprintln(stdout, "wrote", p)
	}
	if len(written) == 0 {
		fmt.Fprintln(stdout, "rules are up to date")
	}
	return 0
}

func rulesDeploy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rules deploy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	toEmulator := fs.Bool("emulator", false, "load the Firestore rules into the Firestore emulator")
	host := fs.String("host", os.Getenv("FIRESTORE_EMULATOR_HOST"), "Firestore emulator host:port (default $FIRESTORE_EMULATOR_HOST, else firebase.json)")
	project := fs.String("project", "", "project id (default for --emulator: $GOOGLE_CLOUD_PROJECT, else the local suite's, $HEARTH_LOCAL_PROJECT or demo-hearth)")
	bucket := fs.String("bucket", os.Getenv("HEARTH_STORAGE_BUCKET"), "Cloud Storage bucket whose rules to release (default $HEARTH_STORAGE_BUCKET)")
	dryRun := fs.Bool("dry-run", false, "print what would change and change nothing")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hearth rules deploy: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *toEmulator {
		return deployEmulator(ctx, *host, *project, stdout, stderr)
	}
	if *project == "" {
		fmt.Fprintln(stderr, "hearth rules deploy: --project is required (or --emulator)")
		return 2
	}
	if *bucket == "" {
		fmt.Fprintln(stderr, "hearth rules deploy: --bucket is required (or set HEARTH_STORAGE_BUCKET), e.g. "+*project+".firebasestorage.app")
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	d, err := rules.NewDeployer(ctx, rules.DeployConfig{Project: *project, Bucket: *bucket})
	if err != nil {
		fmt.Fprintln(stderr, "hearth rules deploy:", err)
		return 1
	}
	var changes []rules.Change
	if *dryRun {
		changes, err = d.Plan(ctx)
	} else {
		changes, err = d.Deploy(ctx)
	}
	for _, c := range changes {
		switch {
		case !c.Changed():
			fmt.Fprintf(stdout, "%s: unchanged (%s)\n", c.Release, c.CurrentRuleset)
		case *dryRun && c.CurrentRuleset == "":
			fmt.Fprintf(stdout, "%s: would be created\n%s", c.Release, c.Diff())
		case *dryRun:
			fmt.Fprintf(stdout, "%s: would change from %s\n%s", c.Release, c.CurrentRuleset, c.Diff())
		case c.NewRuleset != "":
			fmt.Fprintf(stdout, "%s: released %s\n", c.Release, c.NewRuleset)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "hearth rules deploy:", err)
		return 1
	}
	return 0
}

func deployEmulator(ctx context.Context, host, project string, stdout, stderr io.Writer) int {
	if host == "" || project == "" {
		_, _, cfg, err := rulesPaths()
		if err != nil {
			fmt.Fprintln(stderr, "hearth rules deploy:", err)
			return 1
		}
		if host == "" {
			host = cfg.Ports.Firestore.Addr()
		}
		if project == "" {
			project = os.Getenv("GOOGLE_CLOUD_PROJECT")
		}
		if project == "" {
			project = cfg.ProjectID
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// The Storage rules are not loaded: the local storage is not the Firebase Storage
	// emulator and enforces no rules (docs/security.md).
	src, _, err := rules.Render()
	if err == nil {
		err = emulator.LoadFirestoreRules(ctx, host, project, string(src))
	}
	if err != nil {
		fmt.Fprintln(stderr, "hearth rules deploy: load rules into the emulator:", err)
		return 1
	}
	fmt.Fprintf(stdout, "loaded the Firestore rules into the emulator at %s for project %s\n", host, project)
	return 0
}
