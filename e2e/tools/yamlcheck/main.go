// yamlcheck reads each file named on the command line as kubectl reads a manifest: split into
// documents at `---` lines (k8s.io/apimachinery's YAMLReader), each document decoded by
// sigs.k8s.io/yaml (go-yaml). It prints one line per file: `OK<TAB>path`, or
// `ERR<TAB>path<TAB>message` for the first document go-yaml refuses. The oracle of the `yaml`
// differential test (e2e/differential.py).
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

func check(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	r := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := yaml.YAMLToJSON(doc); err != nil {
			return err
		}
	}
}

func main() {
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for _, path := range os.Args[1:] {
		if err := check(path); err != nil {
			fmt.Fprintf(out, "ERR\t%s\t%s\n", path, strings.ReplaceAll(err.Error(), "\n", " "))
		} else {
			fmt.Fprintf(out, "OK\t%s\n", path)
		}
	}
}
