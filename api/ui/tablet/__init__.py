"""BOA tablet pages: the review queue, a hit, its evidence and the decisions."""
