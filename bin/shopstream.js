#!/usr/bin/env node
// The `shopstream` command. The code is TypeScript, run through tsx's loader (no build step).
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
