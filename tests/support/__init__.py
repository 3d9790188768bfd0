"""What the tests share: the sentiment examples, tiny models, run configs, a trained run
written through the studio's own code, and wait_for."""
