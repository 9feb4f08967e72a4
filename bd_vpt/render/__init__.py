"""The one output layer: documents and rows rendered as table, json, csv or markdown, and
the formatters for money, tokens and rates. No figures are computed here.
"""
