"""The page's stylesheet (Gradio 6 takes it at launch: `demo.launch(css=CSS)`)."""

CSS = """
.msa-score { padding: 10px 14px; border-radius: 10px; background: var(--block-background-fill);
             border: 1px solid var(--border-color-primary); }
.msa-value { font-size: 2.6em; font-weight: 700; margin-right: 14px; vertical-align: middle; }
.msa-polarity { color: white; padding: 3px 12px; border-radius: 999px; font-weight: 600;
                vertical-align: middle; }
.msa-sub { color: var(--body-text-color-subdued); font-size: 0.9em; margin-top: 4px; }
.msa-warn { color: #9a6700; background: #fff8c5; border-radius: 6px; padding: 4px 8px; margin-top: 6px; }
.msa-message { padding: 14px; border-radius: 10px; font-size: 1.05em; }
.msa-info { background: var(--block-background-fill); border: 1px dashed var(--border-color-primary); }
.msa-error { background: #ffebe9; color: #82071e; border: 1px solid #ff818266; }
.msa-caption { color: var(--body-text-color-subdued); font-size: 0.9em; }
#status { font-size: 0.92em; }
.msa-words { font-size: 1.15em; line-height: 2.1; padding: 6px 2px; }
.msa-word { padding: 2px 4px; border-radius: 4px; }
"""
