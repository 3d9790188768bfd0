"""What the tabs show, as plain Python values: no Gradio here, so every presenter is tested
without a page. The tab modules (studio/ui/*_tab.py) keep layout and event wiring.

    inputs_preview     counts, rejected rows, versions table, the prompt preview, stats text
    inputs_mapping     what a detected column mapping was guessed from; a proposed instruction
    config_form        the Models form: field order and labels, form values <-> config dicts
    train              a job's status line, progress bar, chart data, the jobs table
    train_plan         what a model configuration will do when trained (epochs, time)
    generate_form      the Generate form's fields -> PromptInput and GenerationOptions
    generate_notes     the instruction a trained model learned; is training using the CPU
    evaluate_progress  metrics that fit a task; a running evaluation's progress
    evaluate_report    results.json -> tables, confusion heat map, ROC points, summaries
"""
