/**
 * The renderer tests' setup. Testing Library's `waitFor` and `findBy*` give up after 1 s by
 * default: in the flake audit (test/FLAKE-AUDIT.md) review-conflict's first test, whose first
 * render compiles the panel's modules, waited longer than that for its notice at a load average
 * of 16 on 2 shared cores. 10 s is a guard against a UI that never gets there, 10 times the 1 s it
 * passed, and inside the project's 120 s test limit (vitest.config.ts).
 */
import { configure } from '@testing-library/react';

configure({ asyncUtilTimeout: 10_000 });
