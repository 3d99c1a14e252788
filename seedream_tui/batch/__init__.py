"""Many jobs from one idea: variants in the prompt, sweeps over options, repeats, prompt files; the plan
shown (and priced) before anything is sent."""

#: more expanded jobs than this are refused (or must be sampled): a sentence, never a frozen UI. Here, not in
#: the planner, so the main screen's batch rows know it without importing the planner at start-up (issue 23)
MAX_JOBS = 1000
