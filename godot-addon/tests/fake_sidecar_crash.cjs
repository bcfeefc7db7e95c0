// A sidecar that dies at once: the addon must report the exit code.
process.stderr.write('error: simulated crash before hello\n');
process.exit(3);
