"""The site's machinery, apart from the numbers it explains.

* :mod:`~cnnqa.site.qagraph`: the question graph, from the pages' front matter to Mermaid;
* :mod:`~cnnqa.site.mkdocs_plugin`: the thin adapter from that graph to MkDocs;
* :mod:`~cnnqa.site.downloads`: each question page's code as a script and a notebook;
* :mod:`~cnnqa.site.prerender`: the map drawn to SVG at build time, in headless Chromium;
* :mod:`~cnnqa.site.chromium`: finding that Chromium.
"""
