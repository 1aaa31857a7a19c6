// yamlcheck reads each file named on the command line as kubectl reads a manifest: split into
// documents at `---` lines (k8s.io/apimachinery's YAMLReader), each document decoded by
// sigs.k8s.io/yaml (go-yaml). It prints one line per file: `OK<TAB>path`, or
// `ERR<TAB>path<TAB>message` for the first document go-yaml refuses. With `-json` first, it
// prints instead the JSON kubectl would send of each document that is not empty,
// `DOC<TAB>path<TAB>json` (numbers as go-yaml resolved them, keys sorted), before the `ERR` or
// `OK` line of the file. The oracle of the `yaml` differential test (e2e/differential.py).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// canonical is the JSON text with its keys sorted and its numbers as written (json.Number).
func canonical(doc []byte) (string, error) {
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	var v interface{}
	if err := d.Decode(&v); err != nil {
		return "", err
	}
	out, err := json.Marshal(v)
	return string(out), err
}

func check(path string, docs func(string) error) error {
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
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return err
		}
		if docs != nil && string(j) != "null" {
			c, err := canonical(j)
			if err != nil {
				return err
			}
			if err := docs(c); err != nil {
				return err
			}
		}
	}
}

func main() {
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	args := os.Args[1:]
	withJSON := len(args) > 0 && args[0] == "-json"
	if withJSON {
		args = args[1:]
	}
	for _, path := range args {
		var docs func(string) error
		if withJSON {
			p := path
			docs = func(j string) error {
				_, err := fmt.Fprintf(out, "DOC\t%s\t%s\n", p, j)
				return err
			}
		}
		if err := check(path, docs); err != nil {
			fmt.Fprintf(out, "ERR\t%s\t%s\n", path, strings.ReplaceAll(err.Error(), "\n", " "))
		} else {
			fmt.Fprintf(out, "OK\t%s\n", path)
		}
	}
}
