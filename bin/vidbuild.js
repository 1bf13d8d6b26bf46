#!/usr/bin/env node
// The bundled CLI (tools/bundle-cli.mjs): one file to load instead of ~250 modules.
import '../dist/bundle/main.mjs';
