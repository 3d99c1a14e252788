"""Many jobs from one idea: variants in the prompt, sweeps over options, repeats, prompt files; the plan
shown (and priced) before anything is sent."""
