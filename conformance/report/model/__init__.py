"""The results model: checks, rules, outcomes, scores and run facts."""
