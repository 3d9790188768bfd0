"""The studio's use cases, one module each: what the page, the benches and the command line
do, in one place each, with the one ownership guard (ownership.py).

    save_model.save_model              save the Models form as a model (validated)
    start_training.start_training      can this model train here, and with what; queue it
    start_evaluation.start_evaluation  an evaluation's run config; queue it
    demo_app.create_demo_app           an app, a dataset version and a model from a sample
    import_adapter.import_adapter      an adapter zip made elsewhere, as a model of the app
    export.export_model / push_model   a trained model as a zip, or pushed to the Hub

A UI handler wires widgets to one of these and does nothing else; `python -m studio.actions`
runs them from a terminal. Each takes a Caller (who asks) and records what it did in the
app's activity log.
"""
