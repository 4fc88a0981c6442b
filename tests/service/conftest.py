from tests.service.runway_fixtures import runway, runway_video, webhook_secret  # noqa: F401  (fixtures)
