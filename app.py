"""``python app.py`` starts the dashboard on the configured warehouse (development server).

For production: ``livecommerce serve --prod`` (waitress), or any WSGI server on ``app:server``.
"""

from livecommerce.dashboard import create_app

app = create_app()
server = app.server

if __name__ == "__main__":
    app.run(debug=False)
