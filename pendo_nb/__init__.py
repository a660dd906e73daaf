"""pendo_nb: explore Pendo product-analytics data from Jupyter as pandas DataFrames."""
