"""Major-incident war rooms (issue 4): one command opens the channel with the right suppliers, keeps the timeline,
closes with a report."""
