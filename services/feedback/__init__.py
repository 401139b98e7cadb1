"""The feedback service: deal outcomes joined with usage (content tied to wins), attribution, rep feedback, content gaps."""
