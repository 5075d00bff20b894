"""``python app.py`` starts the dashboard on the configured warehouse (development server).

For production: ``livecommerce serve --prod`` (waitress), or any WSGI server on ``app:server``.
"""

from livecommerce.dashboard import create_app, settle

app = create_app()
server = app.server
settle()  # a serving process: start-up's objects kept out of the garbage collector's full passes

if __name__ == "__main__":
    app.run(debug=False)
