"""The Streamlit app: pages call the core library; the core never imports this package."""
